"""Leak probe: once traffic stops, every pool is idle and agrees with PostgreSQL.

A fault that breaks connections mid-query (a reset, a dropped link) can leak
in two ways: a request that never hands its connection back (the pool's
`used` stays above 0 with nothing running), or a server backend whose client
side is gone (PostgreSQL counts more connections for a replica than its pool
holds). This probe waits until neither is the case. A replica's backends
carry application_name `application_prefix` + its pool name (the local
stack runs pool "app-1" as "learninghub-app-1"); each replica may hold one
more connection than its pool for a moment: its database health check logs
in on its own while the pool is empty.
"""

from typing import Any

from chaoslib.types import Configuration, Secrets

from hubchaos.activity.arguments import as_float, as_positive_float
from hubchaos.activity.settings import observer_dsn
from hubchaos.polling import poll_until
from hubchaos.probes._common import observe
from hubchaos.probes.pool import pool_stats

__all__ = ["wait_for_no_leaks"]

POLL_INTERVAL_S = 0.5
HEALTH_CHECK_SLACK = 1  # the app's own login probe, see learninghub.health

_BACKENDS_SQL = """
SELECT coalesce(application_name, ''), count(*)
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
GROUP BY 1
"""


def wait_for_no_leaks(
    timeout_seconds: float = 15.0,
    application_prefix: str = "learninghub-",
    app_urls: list | str | None = None,
    dsn: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Wait until no pool has a connection checked out or a request waiting, and
    PostgreSQL holds no more backends for any replica than its pool (+1).

    Replicas as for `pool_stats`; PostgreSQL through `dsn` (default
    `hubchaos_db_dsn`). Returns ``{"ok", "seconds", "leaks": [text],
    "replicas": [{"pool", "used", "pending", "pool_connections",
    "backends"}]}`` of the last look; `seconds` is the wait until clean (or
    the whole wait).
    """
    wait_s = as_float("timeout_seconds", timeout_seconds)
    target = observer_dsn(dsn, configuration)
    polled = poll_until(
        lambda _left: _look(app_urls, application_prefix, target, configuration),
        wait_s,
        POLL_INTERVAL_S,
        done=lambda look: not look[1],
    )
    assert polled.value is not None  # no tolerated errors: every look answered
    replicas, leaks = polled.value
    return {
        "ok": polled.held,
        "seconds": round(polled.seconds if polled.held else wait_s, 3),
        "leaks": leaks,
        "replicas": replicas,
    }


def _look(
    app_urls: list | str | None, prefix: str, dsn: str, configuration: Configuration
) -> tuple[list[dict[str, Any]], list[str]]:
    pools = pool_stats(app_urls, as_positive_float("timeout", 5.0), configuration)["replicas"]
    backends = {str(name): int(count) for name, count in observe(dsn, 3.0, _BACKENDS_SQL)}
    replicas: list[dict[str, Any]] = []
    leaks: list[str] = []
    for pool in pools:
        held = backends.get(f"{prefix}{pool['pool']}", 0)
        replicas.append(
            {
                "pool": pool["pool"],
                "used": pool["used"],
                "pending": pool["pending"],
                "pool_connections": pool["connections"],
                "backends": held,
            }
        )
        if pool["used"] or pool["pending"]:
            leaks.append(
                f"{pool['pool']}: {pool['used']} connections checked out, "
                f"{pool['pending']} requests waiting with no traffic"
            )
        if held > pool["connections"] + HEALTH_CHECK_SLACK:
            leaks.append(
                f"{pool['pool']}: PostgreSQL holds {held} backends, the pool only "
                f"{pool['connections']}"
            )
    return replicas, leaks
