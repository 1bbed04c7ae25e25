"""Flood actions: PostgreSQL logins (the 2024-01-15 incident's fault), raw TCP
connections and an HTTP spike over the app's routes.

Every flood is bounded in count and in time, refuses targets outside the blast
radius, can run as a Chaos Toolkit background activity and is stopped early by
`stop_floods` (rollbacks, the safety control) or by Ctrl-C. Each returns its
statistics so the journal shows what the flood achieved.
"""

import time
from collections.abc import Awaitable, Callable
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.actions import _flood_registry
from hubchaos.activity.addresses import describe_dsn, dsn_hosts, dsn_port
from hubchaos.activity.arguments import (
    MAX_ACTIVITY_SECONDS,
    MAX_FLOOD_CONNECTIONS,
    as_float,
    as_int,
    as_positive_float,
)
from hubchaos.activity.blast_radius import ensure_allowed_dsn, ensure_allowed_host
from hubchaos.activity.errors import failed
from hubchaos.activity.settings import flood_dsn
from hubchaos.ledger import history as fault_history
from hubchaos.ledger.floods import flood_undo
from hubchaos.traffic.db_logins import DbFloodPlan, db_login_flood
from hubchaos.traffic.http_load import http_load, load_plan
from hubchaos.traffic.tcp_connections import TcpFloodPlan, tcp_connection_flood

__all__ = [
    "flood_db_connections",
    "flood_tcp_connections",
    "http_spike",
    "stop_floods",
]

_MAX_RATE = 100_000.0


def _bounded_seconds(max_seconds: Any, natural: float) -> float:
    """The flood's time bound: `max_seconds`, or its natural length plus slack."""
    limit = as_float("max_seconds", max_seconds, 0.0, MAX_ACTIVITY_SECONDS)
    return limit if limit > 0 else min(MAX_ACTIVITY_SECONDS, natural + 10.0)


def _run(
    kind: str,
    target: str,
    max_seconds: float,
    body: Callable[[_flood_registry.FloodHandle, Any], Awaitable[dict[str, Any]]],
    undo: dict[str, Any] | None = None,
    configuration: Configuration | None = None,
) -> dict[str, Any]:
    fault_history.note(f"flood:{kind}", target)
    try:
        return _flood_registry.run_flood(kind, target, max_seconds, body, undo, configuration)
    except ActivityFailed:
        raise
    except Exception as exc:  # an unexpected failure is still reported against the target
        raise failed(f"{kind} flood of {target}", exc) from exc


def flood_db_connections(
    count: int = 100,
    rate: float = 50.0,
    hold_seconds: float = 10.0,
    dsn: str = "",
    connect_timeout: float = 5.0,
    application_name: str = "hubchaos-flood",
    max_connecting: int = 16,
    max_seconds: float = 0.0,
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
) -> dict:
    """Flood PostgreSQL with logins, as the oversized pools did on 2024-01-15.

    Opens up to `count` connections at up to `rate` per second (at most
    `max_connecting` handshakes at once), holds each idle for `hold_seconds`,
    then closes it. `dsn` defaults to configuration `hubchaos_flood_dsn` (env
    HUBCHAOS_FLOOD_DSN), else the app's role through the hub_db proxy. The
    whole flood ends after `max_seconds` (0: its natural length,
    count/rate + hold + connect_timeout, plus 10 s) or when `stop_floods`
    is called.

    Returns attempted, succeeded, failed, peak_open, refusals grouped by
    SQLSTATE and server message (53300 = too many connections), transport
    errors by kind, login latency percentiles (ms), logins_per_second,
    seconds_to_first_refusal and duration_seconds.
    """
    plan = DbFloodPlan(
        dsn=flood_dsn(dsn, configuration),
        count=as_int("count", count, 1, MAX_FLOOD_CONNECTIONS),
        rate=as_positive_float("rate", rate, _MAX_RATE),
        hold_seconds=as_float("hold_seconds", hold_seconds),
        connect_timeout=as_positive_float("connect_timeout", connect_timeout, 300.0),
        application_name=str(application_name),
        max_connecting=as_int("max_connecting", max_connecting, 1, MAX_FLOOD_CONNECTIONS),
    )
    ensure_allowed_dsn(plan.dsn, configuration)
    target = describe_dsn(plan.dsn)
    natural = plan.count / plan.rate + plan.hold_seconds + plan.connect_timeout
    return _run(
        "db_logins",
        target,
        _bounded_seconds(max_seconds, natural),
        lambda handle, stop: db_login_flood(plan, target, handle, stop),
        flood_undo(plan.application_name, configuration),
        configuration,
    )


def flood_tcp_connections(
    host: str = "",
    port: int = 0,
    count: int = 100,
    rate: float = 50.0,
    hold_seconds: float = 10.0,
    connect_timeout: float = 5.0,
    max_connecting: int = 64,
    max_seconds: float = 0.0,
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
) -> dict:
    """Open raw TCP connections to `host`:`port` and hold them idle.

    Up to `count` connections at up to `rate` per second, each held
    `hold_seconds`. Without host/port it targets the host and port of the
    flood DSN (the hub_db proxy), i.e. connection slots without logins.
    Returns attempted, succeeded, failed, peak_open, closed_by_peer, errors
    by kind, connect latency percentiles (ms) and duration_seconds.
    """
    if not host or not port:
        default_dsn = flood_dsn("", configuration)
        host = host or dsn_hosts(default_dsn)[0]
        port = port or dsn_port(default_dsn)
    plan = TcpFloodPlan(
        host=str(host),
        port=as_int("port", port, 1, 65535),
        count=as_int("count", count, 1, MAX_FLOOD_CONNECTIONS),
        rate=as_positive_float("rate", rate, _MAX_RATE),
        hold_seconds=as_float("hold_seconds", hold_seconds),
        connect_timeout=as_positive_float("connect_timeout", connect_timeout, 300.0),
        max_connecting=as_int("max_connecting", max_connecting, 1, MAX_FLOOD_CONNECTIONS),
    )
    ensure_allowed_host(plan.host, configuration)
    target = f"{plan.host}:{plan.port}"
    natural = plan.count / plan.rate + plan.hold_seconds + plan.connect_timeout
    return _run(
        "tcp_connections",
        target,
        _bounded_seconds(max_seconds, natural),
        lambda handle, stop: tcp_connection_flood(plan, target, handle, stop),
    )


def http_spike(
    url: str = "",
    concurrency: int = 50,
    duration_seconds: float = 10.0,
    routes: list | None = None,
    timeout: float = 5.0,
    max_requests: int = 1_000_000,
    fast_503_ms: float = 1000.0,
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
) -> dict:
    """Spike HTTP traffic over the app's routes for `duration_seconds`.

    `concurrency` keep-alive connections each send one request after another
    (each with `timeout` seconds to answer), picking from `routes`: a list of
    {"method", "path", "weight", optional "json" body and "headers"}; paths
    are relative to `url` (default configuration `hubchaos_app_url`). Without
    routes it mixes dashboard and chat reads, or, when `url` has a path, hits
    that URL only. Stops after `max_requests` or on `stop_floods`.

    Returns status counts, errors by kind, error_rate, latency percentiles
    (ms, all responses and successes only), requests_per_second and the
    share of 503s answered within `fast_503_ms` with a Retry-After header.
    """
    plan, target = load_plan(
        url,
        routes,
        concurrency,
        duration_seconds,
        max_requests,
        timeout,
        fast_503_ms,
        configuration,
    )
    return _run(
        "http_spike",
        target,
        plan.duration_seconds + plan.timeout + 10.0,
        lambda _handle, stop: http_load(plan, target, stop),
    )


def stop_floods(
    timeout_seconds: float = 30.0,
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
) -> dict:
    """Stop every flood running in this process and wait until each has closed
    its connections (for rollbacks and the safety control).

    Returns the floods stopped and how long it took; fails naming the floods
    still holding connections after `timeout_seconds`.
    """
    wait = as_float("timeout_seconds", timeout_seconds, 0.0, MAX_ACTIVITY_SECONDS)
    # what each flood held when asked to stop, for the journal
    held = {flood.id: flood.open_connections for flood in _flood_registry.running_floods()}
    started = time.monotonic()
    stopped, late = _flood_registry.stop_all("stop_floods", wait)
    seconds = round(time.monotonic() - started, 3)
    if late:
        names = ", ".join(f"{f.id} ({f.target}, {f.open_connections} open)" for f in late)
        raise ActivityFailed(f"floods still running after {wait:g} s: {names}")
    return {
        "stopped": [
            {**flood.describe(), "open_connections_when_stopped": held.get(flood.id, 0)}
            for flood in stopped
        ],
        "count": len(stopped),
        "seconds": seconds,
    }
