"""Impact as users felt it: goodput against steady-state capacity, 5xx share, p95.

Before and after come from the `measure_capacity` probe of the steady-state
hypothesis (run before the method and again after it); during comes from the
HTTP load the method generated. A request counts as served when its status
is below 500: a fast 503 is better than a hang, but that user lost service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["FORMULA", "impact_rows"]

FORMULA = (
    "goodput = requests served (status below 500) per second; before and after: the "
    "measure_capacity probe of the steady state (a few clients through the front door); "
    "during: every HTTP load of the method, served / its duration; share of 5xx = 5xx "
    "responses / requests sent; p95 = 95th percentile of request latency (during: the "
    "worst load's)."
)

Row = tuple[str, str, str, str]


def impact_rows(journal: Mapping[str, Any]) -> list[Row]:
    """(measure, before, during, after) rows; empty when the run measured none of it."""
    before = _capacity(journal, "before")
    after = _capacity(journal, "after")
    loads = _loads(journal)
    if before is None and after is None and not loads:
        return []
    during_goodput = _during_goodput(loads)
    capacity = _get(before, "goodput_per_second")
    share = (
        f"{100 * during_goodput / capacity:.0f} %"
        if during_goodput is not None and capacity
        else "n/a"
    )
    return [
        (
            "goodput (served requests/s)",
            _num(capacity),
            _num(during_goodput),
            _num(_get(after, "goodput_per_second")),
        ),
        ("goodput against steady-state capacity", "100 %" if capacity else "n/a", share, "-"),
        (
            "share of 5xx responses",
            _pct(_get(before, "share_5xx")),
            _pct(_during_5xx(loads)),
            _pct(_get(after, "share_5xx")),
        ),
        (
            "p95 request latency",
            _ms(_get(before, "p95_ms")),
            _ms(max((p for p in (_p95(o) for o in loads) if p is not None), default=None)),
            _ms(_get(after, "p95_ms")),
        ),
    ]


def _capacity(journal: Mapping[str, Any], phase: str) -> dict[str, Any] | None:
    state = (journal.get("steady_states") or {}).get(phase) or {}
    for probe in state.get("probes") or []:
        provider = (probe.get("activity") or {}).get("provider") or {}
        output = probe.get("output")
        if provider.get("func") == "measure_capacity" and isinstance(output, dict):
            return output
    return None


def _loads(journal: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        r["output"]
        for r in journal.get("run") or []
        if isinstance(r, dict)
        and isinstance(r.get("output"), dict)
        and r["output"].get("kind") == "http"
    ]


def _served(load: Mapping[str, Any]) -> int:
    counts = load.get("status_counts") or {}
    return sum(
        int(n) for status, n in counts.items() if str(status).isdigit() and int(status) < 500
    )


def _during_goodput(loads: list[dict[str, Any]]) -> float | None:
    seconds = sum(float(load.get("duration_seconds") or 0) for load in loads)
    return sum(_served(load) for load in loads) / seconds if seconds else None


def _during_5xx(loads: list[dict[str, Any]]) -> float | None:
    sent = sum(int(load.get("requests") or 0) + int(load.get("cancelled") or 0) for load in loads)
    errors = sum(
        int(n)
        for load in loads
        for status, n in (load.get("status_counts") or {}).items()
        if str(status).isdigit() and int(status) >= 500
    )
    return errors / sent if sent else None


def _p95(load: Mapping[str, Any]) -> float | None:
    value = (load.get("latency_ms") or {}).get("p95")
    return float(value) if isinstance(value, int | float) else None


def _get(output: Mapping[str, Any] | None, key: str) -> float | None:
    value = (output or {}).get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"
