"""The readings the diagnosis needs beyond the panel's, taken with every timeline sample.

Scalars join the timeline's QUERIES; the vectors (who holds connections,
each replica's pool) are read by `vector_readings`. Names are sample keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["SCALAR_QUERIES", "VECTOR_QUERIES", "vector_readings"]

SCALAR_QUERIES: dict[str, str] = {
    # failed logins of the app by SQLSTATE over the last 5 s (learninghub counts them)
    "logins_refused_53300": (
        'sum(increase(db_client_connection_create_errors_total{db_response_status_code="53300"}[5s]))'
    ),
    "logins_unanswered": (
        'sum(increase(db_client_connection_create_errors_total{db_response_status_code="08001"}[5s]))'
    ),
    "pool_timeouts": "sum(increase(db_client_connection_timeouts_total[5s]))",
    "pool_rejections": "sum(increase(learninghub_db_pool_rejections_total[5s]))",
    "replicas_scraped": 'count(up{job="learninghub"})',
    # Dead, not busy: the scrape failed at once (connection refused). An overloaded
    # replica fails its scrape too, but only after the scrape timeout.
    "replicas_dead": (
        'count((up{job="learninghub"} == 0) and on (instance)'
        ' (scrape_duration_seconds{job="learninghub"} < 0.5)) or vector(0)'
    ),
    "db_up": "min(pg_up)",
    "app_db_up": "min(learninghub_db_up)",
    # what PostgreSQL lets ordinary roles use: max_connections - superuser reserved
    "db_budget": (
        "max(pg_settings_max_connections) - max(pg_settings_superuser_reserved_connections)"
    ),
    "db_query_p95_seconds": (
        "histogram_quantile(0.95, sum by (le) "
        "(rate(db_client_operation_duration_seconds_bucket[5s])))"
    ),
    "queries_per_second": "sum(rate(db_client_operation_duration_seconds_count[5s]))",
}

# sample key -> (PromQL, the labels that name an entry)
VECTOR_QUERIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "db_holders": (
        "sum by (application_name, usename) (pg_connections_by_client_count)",
        ("application_name", "usename"),
    ),
    "pool_max_by_replica": ("max by (pool) (db_client_connection_max)", ("pool",)),
    "pool_used_by_replica": (
        'max by (pool) (db_client_connection_count{state="used"})',
        ("pool",),
    ),
}

Get = Callable[[str, dict[str, str]], Any]


def vector_readings(get: Get) -> dict[str, dict[str, float] | None]:
    """Each vector reading as {"label value[/label value]": number}; None when unanswered."""
    readings: dict[str, dict[str, float] | None] = {}
    for key, (query, labels) in VECTOR_QUERIES.items():
        data = get("/api/v1/query", {"query": query})
        if not isinstance(data, dict) or "result" not in data:
            readings[key] = None
            continue
        entries: dict[str, float] = {}
        for series in data["result"]:
            metric = series.get("metric") or {}
            name = "/".join(str(metric.get(label, "?")) for label in labels)
            value = float(series["value"][1])
            if value == value:  # NaN: no data
                entries[name] = value
        readings[key] = entries
    return readings
