"""Benchmark the local hub stack: start-to-healthy time and steady-state dashboard latency.

    python3 benchmarks/stack.py [--rounds 3] [--requests 500] [--json OUT]

  cold start  `up` with a fresh state directory: initdb, migrate (schema + seed),
              every part spawned and healthy, proxies created
  warm start  `up` again after `down` (the database is kept): no initdb, no seed
  latency     GET /students/N/dashboard through hub_web (Toxiproxy -> app-1 ->
              hub_db -> PostgreSQL), one client sequentially (unloaded latency),
              then wrk with 20 connections for 10 s (p50/p95 and throughput)

The stack runs in a temporary state directory under a free port offset, so a
developer's stack on the default ports is left alone; everything is stopped
and deleted at the end. Progress goes to stderr, a Markdown table to stdout.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hubchaos.stack.local import LocalStack
from hubchaos.stack.ports import Ports, is_free

STUDENTS = 2000
CONCURRENT_CLIENTS = 20
CONCURRENT_SECONDS = 10.0


def free_offset() -> int:
    for _ in range(200):
        offset = random.randrange(2000, 38000, 10)
        if all(is_free(port) for port in Ports.with_offset(offset).wanted(2).values()):
            return offset
    raise SystemExit("no free port offset")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def timed_up(stack: LocalStack) -> float:
    started = time.monotonic()
    stack.up(profile="fixed", replicas=2, toxiproxy="embedded")
    elapsed = time.monotonic() - started
    if not stack.status().healthy:
        raise SystemExit("stack not healthy after up")
    return elapsed


def sequential_latency(app_url: str, requests: int) -> list[float]:
    latencies = []
    with httpx.Client(base_url=app_url, timeout=10) as client:
        for number in range(50):  # warm the pools and the plan cache
            client.get(f"/students/{number + 1}/dashboard").raise_for_status()
        for number in range(requests):
            started = time.perf_counter()
            response = client.get(f"/students/{(number * 7919) % STUDENTS + 1}/dashboard")
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
    return latencies


# Random students, and p50/p95 (microseconds) printed in one line at the end.
WRK_SCRIPT = r"""
math.randomseed(7)
request = function()
  return wrk.format("GET", "/students/" .. math.random(1, STUDENTS) .. "/dashboard")
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d\n", latency:percentile(50),
    latency:percentile(95), summary.requests, summary.errors.status, summary.duration))
end
""".replace("STUDENTS", str(STUDENTS))


def loaded_latency(app_url: str, workdir: Path) -> dict[str, float] | None:
    """wrk with CONCURRENT_CLIENTS connections (httpx itself tops out near 200 requests/s)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk not installed: skipping the loaded measurement", file=sys.stderr)
        return None
    script = workdir / "dashboard.lua"
    script.write_text(WRK_SCRIPT)
    result = subprocess.run(
        [wrk, "-t2", f"-c{CONCURRENT_CLIENTS}", f"-d{CONCURRENT_SECONDS:g}s", "--timeout", "10s",
         "-s", str(script), app_url],
        capture_output=True, text=True, timeout=CONCURRENT_SECONDS + 60, check=True,
    )  # fmt: skip
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    p50_us, p95_us, count, non_2xx, duration_us = (int(x) for x in line.split()[1:])
    return {
        "clients": CONCURRENT_CLIENTS,
        "p50": p50_us / 1000,
        "p95": p95_us / 1000,
        "requests_per_s": count / (duration_us / 1e6),
        "non_2xx": non_2xx,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="cold and warm starts each")
    parser.add_argument("--requests", type=int, default=500, help="sequential requests")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="hubchaos-bench-"))
    quiet: list[str] = []
    cold: list[float] = []
    warm: list[float] = []
    result: dict[str, Any] = {}
    try:
        for round_number in range(args.rounds):
            stack = LocalStack(root / f"cold-{round_number}", port_offset=free_offset(),
                               progress=quiet.append)  # fmt: skip
            cold.append(timed_up(stack))
            stack.down()
            warm.append(timed_up(stack))
            print(f"round {round_number + 1}: cold {cold[-1]:.2f}s warm {warm[-1]:.2f}s",
                  file=sys.stderr)  # fmt: skip
            if round_number < args.rounds - 1:
                stack.down(purge=True)
        state = stack.state()
        assert state is not None
        sequential = sequential_latency(state.app_url, args.requests)
        loaded = loaded_latency(state.app_url, root)
        stack.down(purge=True)
        result = {
            "machine": f"{platform.machine()}, {platform.python_version()}",
            "cold_start_s": {"median": statistics.median(cold), "all": cold},
            "warm_start_s": {"median": statistics.median(warm), "all": warm},
            "sequential_ms": {
                "p50": 1000 * percentile(sequential, 0.5),
                "p95": 1000 * percentile(sequential, 0.95),
                "requests": len(sequential),
            },
            "loaded_ms": loaded,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print("| measurement | result |")
    print("| --- | --- |")
    print(f"| cold start to healthy (initdb + migrate + seed), median of {args.rounds} | "
          f"{result['cold_start_s']['median']:.1f} s |")  # fmt: skip
    print(f"| warm start to healthy (database kept), median of {args.rounds} | "
          f"{result['warm_start_s']['median']:.1f} s |")  # fmt: skip
    seq = result["sequential_ms"]
    print(f"| dashboard via hub_web, 1 client ({seq['requests']} requests) | "
          f"p50 {seq['p50']:.1f} ms, p95 {seq['p95']:.1f} ms |")  # fmt: skip
    con = result["loaded_ms"]
    if con:
        print(f"| dashboard via hub_web, wrk {con['clients']} connections for "
              f"{CONCURRENT_SECONDS:g} s | p50 {con['p50']:.1f} ms, p95 {con['p95']:.1f} ms, "
              f"{con['requests_per_s']:.0f} req/s, {con['non_2xx']} non-2xx |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
