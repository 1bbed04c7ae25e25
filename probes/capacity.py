"""What users get from the stack when nothing is wrong: its goodput and latency.

Run in the steady-state hypothesis, before the faults it measures the
capacity the report compares the fault window with (goodput = requests
served per second, status below 500), and after them whether users are
served as before. A short, bounded closed loop: `concurrency` clients, each
sending one request after another for `duration_seconds`.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import httpx
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.settings import setting

__all__ = ["measure_capacity"]

MAX_SECONDS = 30.0
MAX_CONCURRENCY = 64


def measure_capacity(
    paths: list[str] | None = None,
    concurrency: int = 4,
    duration_seconds: float = 3.0,
    timeout: float = 5.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Goodput, 5xx share and p95 of GET `paths` (relative to `hubchaos_app_url`).

    Returns ``{"goodput_per_second", "requests", "served", "served_share",
    "server_errors", "no_answer", "share_5xx", "p95_ms", "duration_seconds"}``;
    a tolerance on `served_share` judges whether users were served.
    """
    base = setting("hubchaos_app_url", configuration).rstrip("/")
    routes = list(paths or ["/students/17/dashboard", "/rooms/general/messages"])
    if not 1 <= int(concurrency) <= MAX_CONCURRENCY:
        raise ActivityFailed(f"measure_capacity: concurrency must be 1..{MAX_CONCURRENCY}")
    if not 0 < float(duration_seconds) <= MAX_SECONDS:
        raise ActivityFailed(f"measure_capacity: duration_seconds must be in (0, {MAX_SECONDS:g}]")
    try:
        return asyncio.run(
            _measure(base, routes, int(concurrency), float(duration_seconds), float(timeout))
        )
    except httpx.InvalidURL as exc:
        raise ActivityFailed(f"measure_capacity: {base}: {exc}") from None


async def _measure(
    base: str, routes: list[str], concurrency: int, seconds: float, timeout: float
) -> dict[str, Any]:
    statuses: list[int] = []
    latencies: list[float] = []
    no_answer = 0
    started = time.monotonic()
    deadline = started + seconds

    async def client(worker: int) -> None:
        nonlocal no_answer
        async with httpx.AsyncClient(base_url=base, timeout=timeout) as http:
            turn = worker
            while time.monotonic() < deadline:
                path = routes[turn % len(routes)]
                turn += 1
                sent = time.monotonic()
                try:
                    response = await http.get(path)
                except httpx.TransportError:
                    no_answer += 1
                    continue
                latencies.append(time.monotonic() - sent)
                statuses.append(response.status_code)

    await asyncio.gather(*(client(i) for i in range(concurrency)))
    elapsed = time.monotonic() - started
    requests = len(statuses) + no_answer
    served = sum(1 for status in statuses if status < 500)
    server_errors = len(statuses) - served
    return {
        "goodput_per_second": round(served / elapsed, 2) if elapsed else 0.0,
        "requests": requests,
        "served": served,
        "served_share": round(served / requests, 4) if requests else 0.0,
        "server_errors": server_errors,
        "no_answer": no_answer,
        "share_5xx": round(server_errors / requests, 4) if requests else 0.0,
        "p95_ms": _p95_ms(latencies),
        "duration_seconds": round(elapsed, 2),
    }


def _p95_ms(latencies: list[float]) -> float | None:
    if not latencies:
        return None
    ordered = sorted(latencies)
    return round(1000 * ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)], 1)
