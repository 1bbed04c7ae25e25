"""PostgreSQL probes: who holds connections, how close the server is to its
limit, whether another client can still log in, and how long recovery takes.

Each probe returns what it measured (tolerances live in the experiments).
Observer connections use application_name `hubchaos-probe` and are never
counted in the results: they would not exist without the probe.
"""

import math
import time
from collections import Counter
from typing import Any

import psycopg
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.addresses import describe_dsn
from hubchaos.activity.arguments import as_float, as_int, as_positive_float
from hubchaos.activity.settings import observer_dsn
from hubchaos.polling import poll_until
from hubchaos.probes._common import OBSERVER_APPLICATION, observe, observer_connect
from hubchaos.traffic.db_refusals import classify

__all__ = [
    "can_login",
    "connection_headroom",
    "connections_by_application",
    "connections_within_budget",
    "wait_for_connections_at_most",
]

# Client backends only (autovacuum and other workers have their own slots),
# never the observer itself.
_CONNECTIONS_SQL = """
SELECT coalesce(application_name, ''), coalesce(usename::text, ''), coalesce(state, ''), count(*)
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
GROUP BY 1, 2, 3
ORDER BY 4 DESC, 1, 2, 3
"""

_HEADROOM_SQL = """
SELECT current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int,
       count(a.pid),
       count(a.pid) FILTER (WHERE r.rolsuper)
FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid
WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
"""

_ROLE_LIMITS_SQL = """
SELECT r.rolname::text, r.rolconnlimit,
       (SELECT count(*) FROM pg_stat_activity a
        WHERE a.usesysid = r.oid AND a.backend_type = 'client backend'
          AND a.pid <> pg_backend_pid())
FROM pg_roles r
WHERE r.rolcanlogin AND r.rolconnlimit >= 0
ORDER BY 1
"""


def _count_matching(rows: list[tuple[Any, ...]], application_prefix: str) -> int:
    return sum(int(n) for app, _user, _state, n in rows if str(app).startswith(application_prefix))


def connections_by_application(
    application_prefix: str = "",
    dsn: str = "",
    connect_timeout: float = 3.0,
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
) -> dict:
    """Client connections from pg_stat_activity, grouped by application_name,
    user and state, with totals (only applications starting with
    `application_prefix` when it is given).

    `dsn` defaults to configuration `hubchaos_db_dsn` (a superuser observer).
    """
    target = observer_dsn(dsn, configuration)
    rows = observe(
        target, as_positive_float("connect_timeout", connect_timeout, 60), _CONNECTIONS_SQL
    )
    rows = [row for row in rows if str(row[0]).startswith(application_prefix)]
    by_app: Counter[str] = Counter()
    by_user: Counter[str] = Counter()
    by_state: Counter[str] = Counter()
    groups = []
    for app, user, state, n in rows:
        count = int(n)
        by_app[app] += count
        by_user[user] += count
        by_state[state or "starting"] += count  # no state yet: still logging in
        groups.append(
            {"application_name": app, "usename": user, "state": state or "starting", "count": count}
        )
    return {
        "target": describe_dsn(target),
        "application_prefix": application_prefix,
        "total": sum(by_app.values()),
        "by_application": dict(by_app.most_common()),
        "by_user": dict(by_user.most_common()),
        "by_state": dict(by_state.most_common()),
        "groups": groups,
    }


def connection_headroom(
    dsn: str = "",
    connect_timeout: float = 3.0,
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
) -> dict:
    """How far PostgreSQL is from refusing logins.

    Returns max_connections, superuser_reserved_connections, the client
    connections open now (`total`, superusers among them), `headroom` to
    max_connections, `headroom_non_superuser` to the point where ordinary
    roles are refused (max_connections minus the reserved slots), and each
    role with a CONNECTION LIMIT with its current count.
    """
    target = observer_dsn(dsn, configuration)
    timeout = as_positive_float("connect_timeout", connect_timeout, 60)
    with observer_connect(target, timeout) as conn:
        try:
            row = conn.execute(_HEADROOM_SQL).fetchone()
            roles = conn.execute(_ROLE_LIMITS_SQL).fetchall()
        except psycopg.Error as exc:
            raise ActivityFailed(f"PostgreSQL observer {describe_dsn(target)}: {exc}") from None
    assert row is not None  # an aggregate always returns one row
    max_connections, reserved, total, superusers = (int(value) for value in row)
    non_superuser_limit = max_connections - reserved
    return {
        "target": describe_dsn(target),
        "max_connections": max_connections,
        "superuser_reserved_connections": reserved,
        "non_superuser_limit": non_superuser_limit,
        "total": total,
        "superuser_connections": superusers,
        "headroom": max_connections - total,
        "headroom_non_superuser": max(0, non_superuser_limit - total),
        "role_limits": [
            {"role": name, "limit": int(limit), "current": int(current)}
            for name, limit, current in roles
        ],
    }


def can_login(
    dsn: str = "",
    timeout: float = 5.0,
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
) -> dict:
    """Whether a client can still log in (and run SELECT 1) with `dsn`.

    Pass the DSN of the client you care about: the default observer is a
    superuser and may use reserved slots ordinary roles cannot. Returns ok,
    the refusal's SQLSTATE, reason and message when it failed, and seconds.
    """
    target = observer_dsn(dsn, configuration)
    limit = as_positive_float("timeout", timeout, 300)
    started = time.perf_counter()
    try:
        with psycopg.connect(
            target,
            autocommit=True,
            connect_timeout=max(2, math.ceil(limit)),
            application_name=OBSERVER_APPLICATION,
            options=f"-c statement_timeout={int(limit * 1000)}",
        ) as conn:
            conn.execute("SELECT 1").fetchone()
    except psycopg.Error as exc:
        sqlstate, reason, message = classify(exc)
        return {
            "target": describe_dsn(target),
            "ok": False,
            "sqlstate": sqlstate,
            "reason": reason,
            "message": message,
            "seconds": round(time.perf_counter() - started, 3),
        }
    return {
        "target": describe_dsn(target),
        "ok": True,
        "sqlstate": None,
        "reason": None,
        "message": None,
        "seconds": round(time.perf_counter() - started, 3),
    }


def connections_within_budget(
    budget: int,
    application_prefix: str = "learninghub",
    dsn: str = "",
    connect_timeout: float = 3.0,
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
) -> dict:
    """Whether connections of applications starting with `application_prefix`
    stay within `budget` (the sum of the pools' maxima). Returns the measured
    count, the budget and within_budget."""
    limit = as_int("budget", budget, 0)
    target = observer_dsn(dsn, configuration)
    rows = observe(
        target, as_positive_float("connect_timeout", connect_timeout, 60), _CONNECTIONS_SQL
    )
    count = _count_matching(rows, application_prefix)
    return {
        "target": describe_dsn(target),
        "application_prefix": application_prefix,
        "count": count,
        "budget": limit,
        "within_budget": count <= limit,
    }


def wait_for_connections_at_most(
    limit: int,
    timeout_seconds: float = 30.0,
    application_prefix: str = "",
    poll_interval: float = 0.25,
    dsn: str = "",
    connect_timeout: float = 3.0,
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
) -> dict:
    """Wait until client connections (of applications starting with
    `application_prefix`) are back at or below `limit`, e.g. the baseline.

    Returns ok, the seconds it took (the recovery time), the last count and
    how many samples were taken; ok is false when `timeout_seconds` passed
    first. Fails only when PostgreSQL could not be observed at all.
    """
    ceiling = as_int("limit", limit, 0)
    wait = as_float("timeout_seconds", timeout_seconds, 0.0)
    interval = as_positive_float("poll_interval", poll_interval, 60)
    timeout = as_positive_float("connect_timeout", connect_timeout, 60)
    target = observer_dsn(dsn, configuration)
    started = time.monotonic()
    conn: psycopg.Connection[Any] | None = None

    def count_now(left: float) -> int:
        nonlocal conn
        try:
            if conn is None or conn.closed:
                conn = observer_connect(target, min(timeout, max(0.1, left)))
            return _count_matching(conn.execute(_CONNECTIONS_SQL).fetchall(), application_prefix)
        except (ActivityFailed, psycopg.Error):  # a fresh connection at the next look
            if conn is not None:
                conn.close()
            conn = None
            raise

    try:
        polled = poll_until(
            count_now,
            wait,
            interval,
            done=lambda count: count <= ceiling,
            retry_on=(ActivityFailed, psycopg.Error),  # keep trying until the deadline
        )
    finally:
        if conn is not None:
            conn.close()
    count = polled.value
    if count is None:
        exc = polled.error
        last_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ActivityFailed(
            f"PostgreSQL observer {describe_dsn(target)}: no measurement in {wait:g} s: "
            f"{last_error}"
        )
    return {
        "target": describe_dsn(target),
        "application_prefix": application_prefix,
        "ok": count <= ceiling,
        "seconds": round(time.monotonic() - started, 3),
        "count": count,
        "limit": ceiling,
        "samples": polled.answers,
    }
