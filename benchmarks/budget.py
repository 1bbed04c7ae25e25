"""Benchmark `hubchaos budget` on the Kubernetes overlays (target: under 0.5 s).

    python3 benchmarks/budget.py [--rounds 10] [--json OUT]

  command    the whole `hubchaos budget OVERLAY` process, as a deploy pipeline
             runs it: interpreter start, imports, rendering the kustomization,
             reading the manifests, the arithmetic, the exit code
  in-process hubchaos.budget.sources.overlay_case(OVERLAY) alone (render +
             read + arithmetic), what the command adds to its start-up
  baselines  `python -c pass` and `hubchaos --version` in the same rounds: the
             share of the command that is interpreter and CLI start-up

Both overlays, interleaved, so load from other processes hits each alike; the
median and the slowest round are reported. The exit code is checked every
round (fixed 0, incident 1): a fast wrong answer is not a result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hubchaos.budget.sources import overlay_case  # noqa: E402

OVERLAYS = {"fixed": 0, "incident": 1}
TARGET_S = 0.5


def command_seconds(overlay: Path, expected: int) -> float:
    hubchaos = Path(sys.executable).with_name("hubchaos")
    argv = [str(hubchaos)] if hubchaos.exists() else [sys.executable, "-m", "hubchaos"]
    started = time.perf_counter()
    result = subprocess.run(
        [*argv, "budget", str(overlay)], capture_output=True, text=True, timeout=60, check=False
    )
    elapsed = time.perf_counter() - started
    if result.returncode != expected:
        raise SystemExit(f"{overlay}: exit {result.returncode}, expected {expected}")
    return elapsed


def baseline_seconds(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, capture_output=True, timeout=60, check=True)
    return time.perf_counter() - started


def in_process_seconds(overlay: Path, expected: int) -> float:
    started = time.perf_counter()
    case = overlay_case(overlay)
    elapsed = time.perf_counter() - started
    if case.fits != (expected == 0):
        raise SystemExit(f"{overlay}: fits={case.fits}, expected exit {expected}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    times: dict[str, dict[str, list[float]]] = {
        name: {"command": [], "in-process": []} for name in OVERLAYS
    }
    hubchaos = Path(sys.executable).with_name("hubchaos")
    baselines = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "hubchaos --version": [str(hubchaos), "--version"]
        if hubchaos.exists()
        else [sys.executable, "-m", "hubchaos", "--version"],
    }
    baseline_times: dict[str, list[float]] = {name: [] for name in baselines}
    for round_number in range(args.rounds):
        for name, argv in baselines.items():
            baseline_times[name].append(baseline_seconds(argv))
        order = list(OVERLAYS) if round_number % 2 == 0 else list(reversed(OVERLAYS))
        for name in order:
            overlay = REPO / "environments" / "kubernetes" / "overlays" / name
            times[name]["command"].append(command_seconds(overlay, OVERLAYS[name]))
            times[name]["in-process"].append(in_process_seconds(overlay, OVERLAYS[name]))
        print(f"round {round_number + 1}/{args.rounds}", file=sys.stderr)
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    print(f"Machine: {machine}, Python {platform.python_version()}")
    print()
    print("| overlay | what | median | slowest | target |")
    print("| --- | --- | --- | --- | --- |")
    for name, parts in times.items():
        for what, values in parts.items():
            target = f"< {TARGET_S} s" if what == "command" else "-"
            print(
                f"| {name} | {what} | {statistics.median(values) * 1000:.0f} ms | "
                f"{max(values) * 1000:.0f} ms | {target} |"
            )
    for name, values in baseline_times.items():
        print(
            f"| (baseline) | {name} | {statistics.median(values) * 1000:.0f} ms | "
            f"{max(values) * 1000:.0f} ms | - |"
        )
    load = os.getloadavg()[0]
    print(f"\nLoad average (1 min) at the end: {load:.1f}")
    if args.json:
        args.json.write_text(json.dumps({**times, "baselines": baseline_times}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
