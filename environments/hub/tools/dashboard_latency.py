"""Steady-state dashboard latency: N sequential GETs against a running learninghub.

    python3 environments/hub/tools/dashboard_latency.py --url http://127.0.0.1:18001 -n 500

Students cycle deterministically over the seed; a short warm-up is not counted.
Prints p50/p95/p99 in milliseconds; exits 1 if any request was not a 200.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import httpx


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:18001", help="app base URL")
    parser.add_argument("-n", "--requests", type=int, default=500, help="measured requests")
    parser.add_argument("--warmup", type=int, default=50, help="requests before measuring")
    parser.add_argument("--students", type=int, default=5000, help="student ids to cycle through")
    args = parser.parse_args()

    timings: list[float] = []
    failures = 0
    with httpx.Client(base_url=args.url, timeout=10.0) as client:
        for i in range(args.warmup + args.requests):
            path = f"/students/{1 + (i * 97) % args.students}/dashboard"
            started = time.perf_counter()
            status = client.get(path).status_code
            elapsed = time.perf_counter() - started
            if i >= args.warmup:
                timings.append(elapsed * 1000)
                failures += status != 200
    cuts = statistics.quantiles(timings, n=100)
    print(
        f"dashboard latency over {len(timings)} sequential requests: "
        f"p50 {cuts[49]:.2f} ms, p95 {cuts[94]:.2f} ms, p99 {cuts[98]:.2f} ms, "
        f"max {max(timings):.2f} ms, non-200: {failures}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
