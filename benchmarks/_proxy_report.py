"""The proxy benchmark's verdict: issue 2's targets, one row per proxied route.

Reference routes (haproxy) get rows too, with "reference" as their target and
no verdict, plus lines saying what share of the best reference each proxy
reaches: the part of the gap to direct that any proxy pays on this machine.
Also the machine facts recorded next to the numbers, since on a shared
2-core machine a figure means little without the load it was taken under.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCURACY_LATENCY_MS = 100


@dataclass
class Check:
    benchmark: str
    route: str
    measured: str
    target: str
    passed: bool | None  # None: measured without a target (a reference route, a stress row)
    toxiproxy_2_12: str  # Toxiproxy 2.12 on a machine of this kind (issue 2)


REFERENCE_TARGET = "reference"


def checks_for(results: dict[str, Any], references: Collection[str] = ()) -> list[Check]:
    """One target row per proxied route and benchmark (issue 2's targets)."""
    checks = _target_checks(results)
    for check in checks:
        if check.route in references:
            check.target, check.passed = REFERENCE_TARGET, None
    return checks


def _target_checks(results: dict[str, Any]) -> list[Check]:
    checks: list[Check] = []
    if "throughput" in results:
        tp = results["throughput"]
        for name, ratio in tp["ratio_to_direct"].items():
            if name != "direct":
                measured = f"{tp['median'][name]:.2f} Gbit/s = {ratio:.2f}x direct"
                checks.append(
                    Check("throughput", name, measured, ">= 0.50x", ratio >= 0.5, "0.24-0.37x")
                )
    if "rtt" in results:
        rtt = results["rtt"]
        for name, added in rtt["added_p50"].items():
            if name != "direct":
                measured = (
                    f"+{added:.1f} us (p50 {rtt['p50'][name]:.1f}, p99 {rtt['p99'][name]:.1f})"
                )
                checks.append(
                    Check("rtt added p50", name, measured, "<= 40 us", added <= 40, "49-122 us")
                )
    if "connrate" in results:
        cr = results["connrate"]
        for name, ratio in cr["ratio_to_direct"].items():
            if name != "direct":
                measured = f"{cr['median'][name]:,.0f}/s = {ratio:.2f}x direct"
                checks.append(
                    Check("conn/s", name, measured, ">= 0.60x", ratio >= 0.6, "0.41-0.48x")
                )
    if "memory" in results:
        mem = results["memory"]
        for name, per_conn in mem["bytes_per_connection"].items():
            measured = f"{per_conn / 1000:.1f} KB ({mem['held']:,} held)"
            checks.append(
                Check("memory/held conn", name, measured, "<= 10 KB", per_conn <= 10_000, "~50 KB")
            )
    if "latency" in results:
        for mode in ("burst", "spread"):
            lat = results["latency"][mode]
            for name, added in lat["added_p50_ms"].items():
                measured = (
                    f"added p50 {added:.2f} ms, p99 {lat['added_p99_ms'][name]:.2f} ms "
                    f"(responses p50 {lat['p50_ms'][name]:.1f}, p99 {lat['p99_ms'][name]:.1f})"
                )
                if mode == "burst":
                    # A stress row: it also measures queueing in the proxy, which the
                    # same burst through the toxic-free proxy shows on its own.
                    measured += f"; without the toxic p50 {lat['toxic_free_p50_ms'][name]:.1f} ms"
                    target, passed = "stress, no target", None
                else:
                    target = "added p50 100+-2 ms"
                    passed = abs(added - ACCURACY_LATENCY_MS) <= 2.0
                checks.append(
                    Check(f"100 ms toxic, {mode}", name, measured, target, passed, "p50 101.9 ms")
                )
    return checks


def direct_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    if "throughput" in results:
        lines.append(f"direct throughput {results['throughput']['median']['direct']:.2f} Gbit/s")
    if "rtt" in results:
        rtt = results["rtt"]
        lines.append(
            f"direct RTT p50 {rtt['p50']['direct']:.1f} us, p99 {rtt['p99']['direct']:.1f} us"
        )
    if "connrate" in results:
        lines.append(f"direct conn/s {results['connrate']['median']['direct']:,.0f}")
    if "latency" in results:
        lat = results["latency"]
        for mode in ("burst", "spread"):
            if "direct" in lat[mode]["p50_ms"]:
                lines.append(
                    f"direct {mode} of {lat['connections']} requests: responses p50 "
                    f"{lat[mode]['p50_ms']['direct']:.2f} ms, "
                    f"p99 {lat[mode]['p99_ms']['direct']:.2f} ms"
                )
    return lines


def reference_lines(results: dict[str, Any], references: Collection[str]) -> list[str]:
    """Each proxy against the best reference route, per benchmark that has one.

    Shares are medians of per-round ratios, like the ratios to direct.
    """
    lines = []
    for key, label in (("throughput", "throughput"), ("connrate", "conn/s")):
        if key not in results or not references:
            continue
        samples, to_direct = results[key]["samples"], results[key]["ratio_to_direct"]
        best = max(references, key=lambda name: to_direct[name])
        for name, values in samples.items():
            if name != "direct" and name not in references:
                share = statistics.median(v / r for v, r in zip(values, samples[best], strict=True))
                lines.append(
                    f"{label} {name} = {share:.2f}x {best} (which is {to_direct[best]:.2f}x direct)"
                )
    if "rtt" in results and references:
        added = results["rtt"]["added_p50"]
        best = min(references, key=lambda name: added[name])
        for name, value in added.items():
            if name != "direct" and name not in references:
                lines.append(
                    f"rtt added p50 {name} {value:+.1f} us = {value - added[best]:+.1f} us "
                    f"vs {best} ({added[best]:+.1f} us)"
                )
    return lines


def render_table(
    checks: list[Check], results: dict[str, Any], load: str, references: Collection[str] = ()
) -> str:
    header = ("benchmark", "route", "measured", "target", "result", "toxiproxy 2.12")
    rows = [header] + [
        (c.benchmark, c.route, c.measured, c.target, _verdict(c.passed), c.toxiproxy_2_12)
        for c in checks
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    versus = reference_lines(results, references)
    return "\n".join([*lines, "", *direct_lines(results), *versus, f"load average {load}"])


def _verdict(passed: bool | None) -> str:
    return "-" if passed is None else "pass" if passed else "FAIL"


def machine_info() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
