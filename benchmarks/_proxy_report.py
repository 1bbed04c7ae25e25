"""The proxy benchmark's verdict: issue 2's targets, one row per proxied route.

Also the machine facts recorded next to the numbers, since on a shared
2-core machine a figure means little without the load it was taken under.
"""

from __future__ import annotations

import contextlib
import os
import platform
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
    passed: bool
    reference: str  # Toxiproxy 2.12 on a machine of this kind (issue 2)


def checks_for(results: dict[str, Any]) -> list[Check]:
    """One target row per proxied route and benchmark (issue 2's targets)."""
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
                checks.append(
                    Check(
                        f"100 ms toxic, {mode}",
                        name,
                        measured,
                        "added p50 100+-2 ms",
                        abs(added - ACCURACY_LATENCY_MS) <= 2.0,
                        "p50 101.9 ms",
                    )
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


def render_table(checks: list[Check], results: dict[str, Any], load: str) -> str:
    header = ("benchmark", "route", "measured", "target", "result", "toxiproxy 2.12")
    rows = [header] + [
        (c.benchmark, c.route, c.measured, c.target, "pass" if c.passed else "FAIL", c.reference)
        for c in checks
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join([*lines, "", *direct_lines(results), f"load average {load}"])


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
