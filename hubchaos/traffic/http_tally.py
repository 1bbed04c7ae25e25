"""What an HTTP load measured, per route and in total: status counts, transport
errors by kind, latency percentiles and how many 503s were fast."""

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hubchaos.traffic.stats import latency_summary, per_second


@dataclass
class RouteTally:
    label: str
    sent: int = 0
    ok_seconds: list[float] = field(default_factory=list)  # responses below 400
    failed_seconds: list[float] = field(default_factory=list)  # 4xx and 5xx responses
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    fast_503: int = 0
    retry_after_503: int = 0

    def response(self, status: int, seconds: float, retry_after: bool, fast: float) -> None:
        self.statuses[status] += 1
        if status < 400:
            self.ok_seconds.append(seconds)
            return
        self.failed_seconds.append(seconds)
        if status == 503 and retry_after:
            self.retry_after_503 += 1
            if seconds <= fast:
                self.fast_503 += 1


def _summary(routes: list[RouteTally]) -> dict[str, Any]:
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    ok: list[float] = []
    every: list[float] = []
    for route in routes:
        statuses.update(route.statuses)
        errors.update(route.errors)
        ok += route.ok_seconds
        every += route.ok_seconds
        every += route.failed_seconds
    responses = sum(statuses.values())
    failures = sum(errors.values())
    finished = responses + failures
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    fast_503 = sum(route.fast_503 for route in routes)
    all_503 = statuses.get(503, 0)
    return {
        "requests": finished,
        "responses": responses,
        "cancelled": sum(route.sent for route in routes) - finished,
        "status_counts": {str(status): n for status, n in sorted(statuses.items())},
        "errors_by_kind": dict(errors),
        "error_rate": round((failures + server_errors) / finished, 4) if finished else 0.0,
        "latency_ms": latency_summary(every),
        "ok_latency_ms": latency_summary(ok),
        "fast_503": fast_503,
        "503_with_retry_after": sum(route.retry_after_503 for route in routes),
        # Share of the 503s that came back fast with Retry-After; with no 503
        # at all nothing failed slowly, so the share is 1.0.
        "fast_503_share": round(fast_503 / all_503, 4) if all_503 else 1.0,
    }


class LoadTally:
    def __init__(self, labels: list[str], fast_503_seconds: float) -> None:
        self.begin = time.perf_counter()
        self.fast_503_seconds = fast_503_seconds
        self.routes = [RouteTally(label) for label in labels]

    def result(self, target: str, end: float) -> dict[str, Any]:
        elapsed = end - self.begin
        total = _summary(self.routes)
        return {
            "kind": "http",
            "target": target,
            **total,
            "requests_per_second": per_second(total["requests"], elapsed),
            "fast_503_ms": round(self.fast_503_seconds * 1000.0, 3),
            "routes": [
                {"route": route.label, **_summary([route])} for route in self.routes if route.sent
            ],
            "duration_seconds": round(elapsed, 3),
        }
