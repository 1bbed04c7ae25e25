"""Transport errors the run's own load met (refused, reset, timed out), counted as they happen.

The app's metrics cannot see a request that never reached it, so a spike at
a dead replica showed "0.0 % errors" in the live panel. The load generators
(hubchaos.actions._flood_http) count each such error here, whatever thread
they run in; the live panel shows the count and its rate, and `hubchaos run`
writes this run's share into the journal (`hubchaos_transport_errors`) for
the report.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

__all__ = ["TransportErrorCount", "record", "since", "snapshot"]

_RATE_WINDOW_S = 5

_lock = threading.Lock()
_by_kind: Counter[str] = Counter()
_per_second: deque[list[float]] = deque(maxlen=_RATE_WINDOW_S + 1)  # [second, count]


@dataclass(frozen=True)
class TransportErrorCount:
    """Errors counted so far in this process, by kind, and the recent rate."""

    by_kind: dict[str, int] = field(default_factory=dict)
    per_second: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    def minus(self, earlier: TransportErrorCount) -> dict[str, int]:
        """The errors by kind counted after `earlier` was taken."""
        return {
            kind: count - earlier.by_kind.get(kind, 0)
            for kind, count in sorted(self.by_kind.items())
            if count > earlier.by_kind.get(kind, 0)
        }


def record(kind: str, count: int = 1) -> None:
    """Count `count` transport errors of `kind` (e.g. "connection_refused")."""
    now = int(time.monotonic())
    with _lock:
        _by_kind[kind] += count
        if _per_second and _per_second[-1][0] == now:
            _per_second[-1][1] += count
        else:
            _per_second.append([now, count])


def snapshot() -> TransportErrorCount:
    """Totals by kind and the rate over the last few whole seconds."""
    now = int(time.monotonic())
    with _lock:
        recent = sum(n for second, n in _per_second if now - _RATE_WINDOW_S <= second < now)
        return TransportErrorCount(dict(_by_kind), recent / _RATE_WINDOW_S)


def since(earlier: TransportErrorCount) -> dict[str, int | dict[str, int]]:
    """What the journal keeps: the total and the kinds counted after `earlier`."""
    by_kind = snapshot().minus(earlier)
    return {"total": sum(by_kind.values()), "by_kind": by_kind}
