"""Pool probes against real HTTP /metrics endpoints on loopback.

Each fake replica exposes its pool exactly as the learninghub app does (the
same prometheus_client families and labels), over a real socket, and can be
switched between a healthy and an over-committed pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from chaoslib.discovery.discover import discover_activities
from chaoslib.exceptions import ActivityFailed
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from hubchaos.probes.pool import pool_stats, pool_within_limits
from tests.conftest import refused_port
from tests.metrics_server import MetricsServer


@dataclass
class PoolState:
    used: int = 1
    idle: int = 2
    max_size: int = 10
    pending: int = 0
    timeouts: int = 0
    db_up: int = 1


class _AppLikeCollector(Collector):
    def __init__(self, pool: str, state: PoolState) -> None:
        self.pool, self.state = pool, state

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        count = GaugeMetricFamily("db_client_connection_count", "c", labels=["pool", "state"])
        count.add_metric([self.pool, "used"], self.state.used)
        count.add_metric([self.pool, "idle"], self.state.idle)
        yield count
        for name, value in (
            ("db_client_connection_max", self.state.max_size),
            ("db_client_connection_pending_requests", self.state.pending),
            ("learninghub_db_up", self.state.db_up),
        ):
            gauge = GaugeMetricFamily(name, "g", labels=["pool"])
            gauge.add_metric([self.pool], value)
            yield gauge
        timeouts = CounterMetricFamily("db_client_connection_timeouts", "t", labels=["pool"])
        timeouts.add_metric([self.pool], self.state.timeouts)
        yield timeouts


class FakeReplica:
    """A loopback HTTP server whose /metrics shows `state` (or `body` when set)."""

    def __init__(self, pool: str) -> None:
        self.state = PoolState()
        self.body: bytes | None = None
        registry = CollectorRegistry()
        registry.register(_AppLikeCollector(pool, self.state))
        self.server = MetricsServer(
            lambda: self.body if self.body is not None else generate_latest(registry)
        )
        self.url = f"http://{self.server.address}"

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def replicas() -> Iterator[list[FakeReplica]]:
    servers = [FakeReplica("app-1"), FakeReplica("app-2")]
    yield servers
    for server in servers:
        server.close()


def test_healthy_pools_per_replica_and_in_total(replicas: list[FakeReplica]) -> None:
    replicas[1].state.used, replicas[1].state.timeouts = 4, 3
    urls = [r.url for r in replicas]

    stats = pool_stats(urls)

    assert stats["replica_count"] == 2
    assert stats["replicas"][0] == {
        "url": urls[0], "pool": "app-1", "used": 1, "idle": 2, "connections": 3,
        "max": 10, "pending": 0, "timeouts": 0, "db_up": 1,
    }  # fmt: skip
    assert stats["replicas"][1]["pool"] == "app-2"
    assert (stats["used"], stats["idle"], stats["connections"]) == (5, 4, 9)
    assert (stats["max"], stats["pending"], stats["timeouts"]) == (20, 0, 3)

    verdict = pool_within_limits(max_total_connections=15, max_pending=0, app_urls=urls)
    assert verdict["within_limits"] is True and verdict["violations"] == []


def test_overcommitted_pools_are_reported_with_what_broke(replicas: list[FakeReplica]) -> None:
    # The incident: pools hold more than their cap, the sum beats the budget, requests queue.
    replicas[0].state.used, replicas[0].state.idle = 12, 1
    replicas[1].state.used, replicas[1].state.idle, replicas[1].state.pending = 10, 0, 7
    urls = ",".join(r.url for r in replicas)

    verdict = pool_within_limits(max_total_connections=15, max_pending=0, app_urls=urls)

    assert verdict["within_limits"] is False
    assert verdict["violations"] == [
        f"app-1 ({replicas[0].url}): 13 connections > max 10",
        "total: 23 connections > budget 15",
        "total: 7 pending requests > 0",
    ]
    assert verdict["connections"] == 23 and verdict["pending"] == 7


def test_replicas_come_from_configuration_then_environment(
    replicas: list[FakeReplica], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {"hubchaos_app_replica_urls": [r.url for r in replicas]}
    assert pool_stats(configuration=config)["replica_count"] == 2

    monkeypatch.setenv("HUBCHAOS_APP_REPLICA_URLS", replicas[1].url)
    assert [p["pool"] for p in pool_stats()["replicas"]] == ["app-2"]

    monkeypatch.delenv("HUBCHAOS_APP_REPLICA_URLS")
    single = pool_stats(configuration={"hubchaos_app_url": replicas[0].url})
    assert [p["pool"] for p in single["replicas"]] == ["app-1"]


def test_a_replica_that_is_down_fails_the_probe_naming_it(replicas: list[FakeReplica]) -> None:
    dead = f"http://127.0.0.1:{refused_port()}"
    with pytest.raises(ActivityFailed, match=rf"app metrics at {dead} are unreachable"):
        pool_stats([replicas[0].url, dead], timeout_seconds=2)


def test_metrics_without_pool_series_or_garbled_fail_the_probe(
    replicas: list[FakeReplica],
) -> None:
    replicas[0].body = b"# HELP up whatever\n# TYPE up gauge\nup 1\n"
    with pytest.raises(ActivityFailed, match="have no db_client_connection_"):
        pool_stats(replicas[0].url)

    replicas[0].body = b"db_client_connection_max{pool=app-1 10\n"
    with pytest.raises(ActivityFailed, match="are not Prometheus text"):
        pool_stats(replicas[0].url)


def test_arguments_are_checked() -> None:
    with pytest.raises(ActivityFailed, match="max_pending must be at least -1"):
        pool_within_limits(max_pending=-2, app_urls="http://127.0.0.1:1")


def test_chaoslib_discovers_the_probes() -> None:
    discovered = {a["name"]: a for a in discover_activities("hubchaos.probes.pool", "probe")}
    assert set(discovered) == {"pool_stats", "pool_within_limits"}
    assert all(a["doc"] for a in discovered.values())
    assert [a["name"] for a in discovered["pool_within_limits"]["arguments"]][:2] == [
        "max_total_connections",
        "max_pending",
    ]
