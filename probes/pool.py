"""Connection-pool probes: what each app replica's pool holds, read from its /metrics.

The 2024-01-15 incident was pools opening more connections than PostgreSQL
could take; these probes read the pool gauges every replica exports
(`db_client_connection_count{pool,state}`, `db_client_connection_max`,
`db_client_connection_pending_requests`, `db_client_connection_timeouts_total`,
`learninghub_db_up`) straight from the replicas, so they work without
Prometheus and see the value of this very moment.

Replicas: the `app_urls` argument (a list or a comma separated string), else
configuration key `hubchaos_app_replica_urls` (else env
HUBCHAOS_APP_REPLICA_URLS), else the single `hubchaos_app_url`. A replica that
cannot be scraped fails the probe with `ActivityFailed` naming its URL.
"""

from typing import Any

import httpx
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from prometheus_client.parser import text_string_to_metric_families

from hubchaos.activity.arguments import as_int, as_positive_float
from hubchaos.activity.settings import app_replica_urls

__all__ = ["pool_stats", "pool_within_limits"]

DEFAULT_TIMEOUT_S = 5.0

# sample name -> field of one pool's stats
_GAUGES = {
    "db_client_connection_max": "max",
    "db_client_connection_pending_requests": "pending",
    "db_client_connection_timeouts_total": "timeouts",
    "learninghub_db_up": "db_up",
}
_FIELDS = ("used", "idle", "connections", "max", "pending", "timeouts")


def pool_stats(
    app_urls: list[str] | str | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_S,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Pool state per replica and in total.

    Returns ``{"used", "idle", "connections", "max", "pending", "timeouts",
    "replica_count", "replicas": [{"url", "pool", "used", "idle",
    "connections", "max", "pending", "timeouts", "db_up"}]}``; the top-level
    numbers are totals over every replica (`connections` = used + idle, what
    the pools hold open on PostgreSQL).
    """
    timeout_s = as_positive_float("timeout_seconds", timeout_seconds, 300.0)
    replicas = [
        pool for url in _replica_urls(app_urls, configuration) for pool in _scrape(url, timeout_s)
    ]
    totals = {field: sum(pool[field] for pool in replicas) for field in _FIELDS}
    return {**totals, "replica_count": len(replicas), "replicas": replicas}


def pool_within_limits(
    max_total_connections: int = 0,
    max_pending: int = -1,
    app_urls: list[str] | str | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_S,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Whether every pool stays inside its cap, and all together inside the database budget.

    Checks each replica's open connections against its own `max`, the total
    against `max_total_connections` (0: not checked) and the total of waiting
    requests against `max_pending` (-1: not checked). Returns the `pool_stats`
    measurements plus ``"within_limits": bool`` and ``"violations": [text]``.
    """
    budget = as_int("max_total_connections", max_total_connections)
    pending_limit = as_int("max_pending", max_pending, minimum=-1)
    stats = pool_stats(app_urls, timeout_seconds, configuration)
    violations = [
        f"{pool['pool']} ({pool['url']}): {pool['connections']} connections > max {pool['max']}"
        for pool in stats["replicas"]
        if pool["connections"] > pool["max"]
    ]
    if budget and stats["connections"] > budget:
        violations.append(f"total: {stats['connections']} connections > budget {budget}")
    if pending_limit >= 0 and stats["pending"] > pending_limit:
        violations.append(f"total: {stats['pending']} pending requests > {pending_limit}")
    return {**stats, "within_limits": not violations, "violations": violations}


def _replica_urls(app_urls: list[str] | str | None, configuration: Configuration) -> list[str]:
    urls = app_replica_urls(app_urls, configuration)
    if not urls:
        raise ActivityFailed("pool probe: no app URL to scrape")
    return urls


def _scrape(url: str, timeout_s: float) -> list[dict[str, Any]]:
    """One replica's pools (normally one, named by the `pool` label)."""
    try:
        response = httpx.get(f"{url}/metrics", timeout=timeout_s)
    except httpx.TimeoutException as exc:
        raise ActivityFailed(f"app metrics at {url} did not answer within {timeout_s:g}s") from exc
    except httpx.HTTPError as exc:
        raise ActivityFailed(f"app metrics at {url} are unreachable: {exc}") from exc
    if response.status_code != 200:
        raise ActivityFailed(f"app metrics at {url}/metrics: HTTP {response.status_code}")
    pools: dict[str, dict[str, Any]] = {}
    try:
        samples = [s for f in text_string_to_metric_families(response.text) for s in f.samples]
    except ValueError as exc:
        raise ActivityFailed(
            f"app metrics at {url}/metrics are not Prometheus text: {exc}"
        ) from exc
    for sample in samples:
        _fold(pools, url, sample.name, sample.labels, sample.value)
    if not any(s.name.startswith("db_client_connection_") for s in samples):
        raise ActivityFailed(f"app metrics at {url}/metrics have no db_client_connection_* series")
    for pool in pools.values():
        pool["connections"] = pool["used"] + pool["idle"]
    return [pools[name] for name in sorted(pools)]


def _fold(
    pools: dict[str, dict[str, Any]], url: str, name: str, labels: dict[str, str], value: float
) -> None:
    if name == "db_client_connection_count":
        field = labels.get("state", "")
        if field not in ("used", "idle"):
            return
    elif name in _GAUGES:
        field = _GAUGES[name]
    else:
        return
    pool_name = labels.get("pool", "")
    pool = pools.setdefault(
        pool_name,
        {
            "url": url,
            "pool": pool_name,
            "used": 0,
            "idle": 0,
            "max": 0,
            "pending": 0,
            "timeouts": 0,
            "db_up": None,
        },
    )
    pool[field] = int(value) if float(value).is_integer() else value
