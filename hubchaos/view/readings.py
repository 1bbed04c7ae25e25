"""The stack's numbers at one instant, from one timeline sample, in words people read.

Both the live view and the plain status lines show the same readings, so
they are worded once, here. A value Prometheus did not give (unreachable,
no traffic yet) is None and shown as "-", never as 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Readings", "fraction", "number", "percent", "rate", "seconds"]

MISSING = "-"


@dataclass(frozen=True)
class Readings:
    pool_used: float | None = None
    pool_max: float | None = None
    pool_pending: float | None = None
    db_connections: float | None = None
    db_max_connections: float | None = None
    p95_latency_seconds: float | None = None
    error_rate: float | None = None
    requests_per_second: float | None = None
    firing: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @classmethod
    def from_sample(cls, sample: Mapping[str, Any] | None) -> Readings:
        """From one `hubchaos.controls.timeline.Sampler.sample()` (None: no sample yet)."""
        if not sample:
            return cls()
        alerts = sample.get("alerts") or {}
        requests = _float(sample.get("requests_per_second"))
        error_rate = _float(sample.get("error_rate"))
        if error_rate is None and requests:
            # Prometheus has no 5xx series until the first 5xx: traffic without one is 0%
            error_rate = 0.0
        return cls(
            pool_used=_float(sample.get("pool_used")),
            pool_max=_float(sample.get("pool_max")),
            pool_pending=_float(sample.get("pool_pending")),
            db_connections=_float(sample.get("db_connections")),
            db_max_connections=_float(sample.get("db_max_connections")),
            p95_latency_seconds=_float(sample.get("p95_latency_seconds")),
            error_rate=error_rate,
            requests_per_second=requests,
            firing=sorted(name for name, state in alerts.items() if state == "firing"),
            pending=sorted(name for name, state in alerts.items() if state == "pending"),
        )

    @property
    def available(self) -> bool:
        """False when Prometheus gave nothing at all (down, or not scraping yet)."""
        return any(
            value is not None
            for value in (
                self.pool_used,
                self.pool_max,
                self.db_connections,
                self.db_max_connections,
            )
        )

    def alerts_text(self) -> str:
        parts = []
        if self.firing:
            parts.append("firing " + ", ".join(self.firing))
        if self.pending:
            parts.append("pending " + ", ".join(self.pending))
        return "; ".join(parts) or "none"

    def status_line(self) -> str:
        """Everything on one line, for CI logs."""
        return (
            f"pool {fraction(self.pool_used, self.pool_max)} used, "
            f"{number(self.pool_pending)} waiting | "
            f"db connections {fraction(self.db_connections, self.db_max_connections)} | "
            f"p95 {seconds(self.p95_latency_seconds)} | errors {percent(self.error_rate)} | "
            f"{rate(self.requests_per_second)} req/s | alerts: {self.alerts_text()}"
        )


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def number(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def rate(value: float | None) -> str:
    """Per-second rates: one decimal while small, so 0.4 req/s does not read as 0."""
    if value is None:
        return MISSING
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def fraction(value: float | None, limit: float | None) -> str:
    return f"{number(value)}/{number(limit)}"


def seconds(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def percent(value: float | None) -> str:
    return MISSING if value is None else f"{value * 100:.1f}%"
