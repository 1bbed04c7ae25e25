"""Prometheus metrics with OpenTelemetry names (DESIGN §4), one registry per app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

# Fine enough to read a p95 anywhere between 5 ms and 30 s.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
    0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0,
    15.0, 20.0, 30.0, 60.0,
)  # fmt: skip

CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST

# `*_created` series double the exposition for no reader of ours.
prometheus_client.disable_created_metrics()


@dataclass(frozen=True)
class PoolSnapshot:
    """The pool's state at scrape time."""

    used: int
    idle: int
    max_size: int
    pending_requests: int
    connection_errors: int


class _PoolCollector(Collector):
    """Reads pool gauges when scraped, so they are never stale."""

    def __init__(self, pool_name: str, snapshot: Callable[[], PoolSnapshot]) -> None:
        self.pool_name = pool_name
        self.snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        state = self.snapshot()
        count = GaugeMetricFamily(
            "db_client_connection_count",
            "Connections currently in the pool, by state",
            labels=["pool", "state"],
        )
        count.add_metric([self.pool_name, "used"], state.used)
        count.add_metric([self.pool_name, "idle"], state.idle)
        yield count
        yield _gauge(
            "db_client_connection_max",
            "Largest number of connections the pool may open",
            self.pool_name,
            state.max_size,
        )
        yield _gauge(
            "db_client_connection_pending_requests",
            "Requests waiting for a pooled connection",
            self.pool_name,
            state.pending_requests,
        )
        errors = CounterMetricFamily(
            "learninghub_db_connection_errors",
            "Failed attempts of the pool to open a database connection",
            labels=["pool"],
        )
        errors.add_metric([self.pool_name], state.connection_errors)
        yield errors


def _gauge(name: str, documentation: str, pool_name: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["pool"])
    family.add_metric([pool_name], value)
    return family


class HubMetrics:
    """Every metric the app exports; `pool` is the label that tells replicas apart."""

    def __init__(self, pool_name: str) -> None:
        self.pool_name = pool_name
        self.registry = CollectorRegistry(auto_describe=True)
        self.connection_wait = Histogram(
            "db_client_connection_wait_time_seconds",
            "Time it took to obtain a connection from the pool",
            ["pool"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        ).labels(pool_name)
        self.connection_timeouts = Counter(
            "db_client_connection_timeouts",
            "Requests that gave up waiting for a pooled connection after the pool timeout",
            ["pool"],
            registry=self.registry,
        ).labels(pool_name)
        self.pool_rejections = Counter(
            "learninghub_db_pool_rejections",
            "Requests refused at once because the pool's wait queue was full (max_waiting)",
            ["pool"],
            registry=self.registry,
        ).labels(pool_name)
        self._operation_duration = Histogram(
            "db_client_operation_duration_seconds",
            "Duration of one database query, errors included",
            ["db_operation_name", "pool"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._request_duration = Histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP requests, by route template",
            ["http_route", "http_request_method", "http_response_status_code", "pool"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._login_failures = Counter(
            "db_client_connection_create_errors",
            "Failed attempts to open a database connection, by SQLSTATE "
            "(53300 = connection budget exhausted, 08001 = nothing answered)",
            ["pool", "db_user", "db_response_status_code"],
            registry=self.registry,
        )
        self.db_up = Gauge(
            "learninghub_db_up",
            "1 while the database is reachable from this app, 0 when logins or the network fail",
            ["pool"],
            registry=self.registry,
        ).labels(pool_name)

    def watch_pool(self, snapshot: Callable[[], PoolSnapshot]) -> None:
        self.registry.register(_PoolCollector(self.pool_name, snapshot))

    def count_login_failure(self, role: str, sqlstate: str) -> None:
        self._login_failures.labels(self.pool_name, role, sqlstate).inc()

    def observe_operation(self, operation: str, seconds: float) -> None:
        self._operation_duration.labels(operation, self.pool_name).observe(seconds)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self._request_duration.labels(route, method, str(status), self.pool_name).observe(seconds)

    def exposition(self) -> bytes:
        return prometheus_client.generate_latest(self.registry)
