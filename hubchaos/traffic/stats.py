"""Latency summaries shared by floods and probes (milliseconds, nearest rank)."""

import math
from collections.abc import Sequence


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted, non-empty sequence."""
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """count, mean, p50, p95, p99 and max of `seconds`, reported in ms."""
    if not seconds:
        return {"count": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(seconds)

    def ms(value: float) -> float:
        return round(value * 1000.0, 3)

    return {
        "count": len(ordered),
        "mean": ms(sum(ordered) / len(ordered)),
        "p50": ms(percentile(ordered, 50)),
        "p95": ms(percentile(ordered, 95)),
        "p99": ms(percentile(ordered, 99)),
        "max": ms(ordered[-1]),
    }


def per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else 0.0
