"""The size limits of every flood and traffic activity, checked when the file is validated.

The activities check the same limits when they run (hubchaos.activity.arguments
`as_int`/`as_float`); checking them at validation too means a count of ten
million fails the file at once, not after the steady-state check and the
earlier injections. tests/blast_radius/test_bounds.py proves, activity by
activity, that each limit here is the one the activity itself enforces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chaoslib.exceptions import ActivityFailed

from hubchaos.activity.arguments import (
    MAX_ACTIVITY_SECONDS,
    MAX_FLOOD_CONNECTIONS,
    as_float,
    as_int,
    as_positive_float,
)
from hubchaos.traffic.cluster_job import (
    MAX_CLUSTER_FLOOD_SECONDS,
    MAX_CONCURRENCY_PER_POD,
    MAX_PARALLELISM,
)

__all__ = ["BOUNDS", "bound_problem"]

MAX_RATE = 100_000.0  # logins or connects per second (actions/flood.py)
MAX_REQUESTS = 100_000_000
MAX_CONCURRENCY_PER_REPLICA = 1_000

Check = Callable[[str, Any], object]


def _int(minimum: int, maximum: int) -> Check:
    return lambda name, value: as_int(name, value, minimum, maximum)


def _seconds(maximum: float = MAX_ACTIVITY_SECONDS) -> Check:
    return lambda name, value: as_float(name, value, 0.0, maximum)


def _positive(maximum: float = MAX_ACTIVITY_SECONDS) -> Check:
    return lambda name, value: as_positive_float(name, value, maximum)


def _port(name: str, value: Any) -> object:
    """0 (or nothing) means "the port of the flood DSN"."""
    return None if value in (0, "0", "", None) else as_int(name, value, 1, 65535)


_CONNECTION_FLOOD: dict[str, Check] = {
    "count": _int(1, MAX_FLOOD_CONNECTIONS),
    "rate": _positive(MAX_RATE),
    "hold_seconds": _seconds(),
    "connect_timeout": _positive(300.0),
    "max_connecting": _int(1, MAX_FLOOD_CONNECTIONS),
    "max_seconds": _seconds(),
}
_HTTP_LOAD: dict[str, Check] = {
    "concurrency": _int(1, MAX_FLOOD_CONNECTIONS),
    "max_requests": _int(1, MAX_REQUESTS),
    "timeout": _positive(300.0),
    "fast_503_ms": _seconds(300_000.0),
}

# "module.function" -> argument -> check raising ActivityFailed with the activity's message
BOUNDS: dict[str, dict[str, Check]] = {
    "hubchaos.actions.flood.flood_db_connections": _CONNECTION_FLOOD,
    "hubchaos.actions.flood.flood_tcp_connections": {**_CONNECTION_FLOOD, "port": _port},
    "hubchaos.actions.flood.http_spike": {**_HTTP_LOAD, "duration_seconds": _positive()},
    "hubchaos.actions.flood.stop_floods": {"timeout_seconds": _seconds()},
    "hubchaos.actions.cluster_flood.cluster_http_spike": {
        "parallelism": _int(1, MAX_PARALLELISM),
        "concurrency": _int(1, MAX_CONCURRENCY_PER_POD),
        "duration_seconds": _positive(MAX_CLUSTER_FLOOD_SECONDS),
        "max_requests": _int(1, MAX_REQUESTS),
        "timeout": _positive(300.0),
        "fast_503_ms": _seconds(300_000.0),
    },
    "hubchaos.actions.replica_spike.http_spike_all_replicas": {
        "concurrency_per_replica": _int(1, MAX_CONCURRENCY_PER_REPLICA),
        "duration_seconds": _positive(),
        "timeout": _positive(300.0),
    },
    "hubchaos.probes.http.http_slo": {
        "requests": _int(1, MAX_REQUESTS),
        "concurrency": _int(1, MAX_FLOOD_CONNECTIONS),
        "timeout": _positive(300.0),
        "fast_503_ms": _seconds(300_000.0),
        "max_seconds": _positive(),
    },
}


def bound_problem(function: str, arguments: Mapping[str, Any]) -> str | None:
    """The first argument of `function` outside its limits, as the activity would word it."""

    for name, check in BOUNDS.get(function, {}).items():
        if name not in arguments:
            continue  # the activity's own default is within its limits
        try:
            check(name, arguments[name])
        except ActivityFailed as exc:
            return str(exc)
    return None
