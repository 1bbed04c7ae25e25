"""A bounded HTTP flood of dashboard requests, run in its own process.

    python3 -m tests.stack.load URL [URL ...] --concurrency 300 --duration 10 --out FILE

Workers are spread over the URLs and request `/students/N/dashboard` until the
duration is over or each has made `--max-requests`; after a 503 a worker
honours Retry-After (capped at 1 s), like a well-behaved client. The summary
(status counts, Retry-After count, latency per status) is written as JSON.
Running it in a separate process keeps the measuring test's own event loop out
of the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx

STUDENTS = 2000  # ids 1..STUDENTS exist in the seed


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def flood(
    urls: list[str], concurrency: int, duration_s: float, max_requests: int, timeout_s: float
) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    latencies: dict[str, list[float]] = defaultdict(list)
    retry_after = 0
    deadline = time.monotonic() + duration_s
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(timeout_s, connect=5.0)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:

        async def worker(number: int) -> None:
            nonlocal retry_after
            base = urls[number % len(urls)]
            for attempt in range(max_requests):
                if time.monotonic() >= deadline:
                    return
                student = (number * 7919 + attempt * 31) % STUDENTS + 1
                started = time.monotonic()
                pause = 0.0
                try:
                    response = await client.get(f"{base}/students/{student}/dashboard")
                    key = str(response.status_code)
                    if response.status_code == 503 and "retry-after" in response.headers:
                        retry_after += 1
                        pause = min(1.0, float(response.headers["retry-after"] or 0))
                except httpx.HTTPError as exc:
                    key = type(exc).__name__
                    pause = 0.2
                statuses[key] += 1
                latencies[key].append(time.monotonic() - started)
                if pause:
                    await asyncio.sleep(pause)

        await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return {
        "statuses": dict(statuses),
        "retry_after": retry_after,
        "latency": {
            key: {
                "count": len(values),
                "p50": percentile(values, 0.5),
                "p95": percentile(values, 0.95),
                "max": max(values),
            }
            for key, values in latencies.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--concurrency", type=int, default=300)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=200, help="per worker")
    parser.add_argument("--timeout", type=float, default=20.0, help="per request")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    summary = asyncio.run(
        flood(args.urls, args.concurrency, args.duration, args.max_requests, args.timeout)
    )
    args.out.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
