"""Pool probes against real learninghub replicas on the private PostgreSQL cluster."""

from __future__ import annotations

from hubchaos.probes.pool import pool_stats, pool_within_limits
from tests.hub.conftest import HubDatabase, StartApp, hub_db, start_app  # noqa: F401  (fixtures)


def test_real_replicas_report_what_postgres_sees(
    start_app: StartApp,  # noqa: F811
    hub_db: HubDatabase,  # noqa: F811
) -> None:
    apps = [start_app(pool_min=3, pool_max=4), start_app(pool_min=2, pool_max=4)]
    urls = [app.url for app in apps]

    stats = pool_stats(urls)

    assert [r["pool"] for r in stats["replicas"]] == [app.pool_name for app in apps]
    assert [r["max"] for r in stats["replicas"]] == [4, 4]
    assert [r["db_up"] for r in stats["replicas"]] == [1, 1]
    # Warm pools hold their minimum; PostgreSQL counts the same sessions.
    for replica, app in zip(stats["replicas"], apps, strict=True):
        assert replica["connections"] >= replica["idle"] > 0
        assert replica["connections"] == hub_db.connections_of(app.application_name)
    assert stats["connections"] == sum(r["connections"] for r in stats["replicas"]) >= 5

    fits = pool_within_limits(max_total_connections=8, max_pending=0, app_urls=urls)
    assert fits["within_limits"] is True

    too_many = pool_within_limits(max_total_connections=4, app_urls=urls)
    assert too_many["within_limits"] is False
    assert too_many["violations"] == [f"total: {stats['connections']} connections > budget 4"]
