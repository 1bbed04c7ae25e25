"""Recovery and leak probes against real learninghub replicas on the private PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import psycopg
import pytest

from hubchaos.probes.leaks import wait_for_no_leaks
from hubchaos.probes.recovery import wait_until_serving
from tests.conftest import refused_port
from tests.hub.conftest import HubApp, HubDatabase, StartApp, hub_db, start_app  # noqa: F401


@pytest.fixture
def app(start_app: StartApp) -> HubApp:  # noqa: F811
    return start_app(pool_min=2, pool_max=4, statement_timeout_ms=0)


def test_a_serving_app_is_recovered_at_once(app: HubApp) -> None:
    result = wait_until_serving(timeout_seconds=5, app_urls=[app.url])
    assert result["ok"] is True and result["rounds"] == 1
    assert [c["status"] for c in result["checks"]] == [200, 200]


def test_a_replica_that_does_not_answer_is_not_recovered(app: HubApp) -> None:
    dead = f"http://127.0.0.1:{refused_port()}"
    result = wait_until_serving(timeout_seconds=1, app_urls=[app.url, dead])
    assert result["ok"] is False and result["seconds"] == 1
    assert {c["url"]: c["status"] for c in result["checks"]}[f"{dead}/readyz"] is None


def test_an_idle_app_has_no_leak(app: HubApp, hub_db: HubDatabase) -> None:  # noqa: F811
    result = wait_for_no_leaks(timeout_seconds=5, app_urls=[app.url], dsn=hub_db.admin_dsn)
    assert result["ok"] is True and result["leaks"] == []
    (replica,) = result["replicas"]
    assert replica["used"] == 0 and replica["backends"] == replica["pool_connections"] >= 2


@contextlib.contextmanager
def _dashboard_stuck(app: HubApp, hub_db: HubDatabase) -> Iterator[None]:  # noqa: F811
    """One dashboard request blocked on a table lock, holding its pooled connection."""
    statuses: list[int] = []
    with psycopg.connect(hub_db.admin_dsn) as lock:
        lock.execute("LOCK TABLE students IN ACCESS EXCLUSIVE MODE")
        request = threading.Thread(
            target=lambda: statuses.append(app.get("/students/1/dashboard", timeout=30).status_code)
        )
        request.start()
        try:
            yield
        finally:
            lock.rollback()
            request.join(timeout=30)
    assert statuses == [200]  # once the lock is gone the request completes


def test_a_connection_not_handed_back_is_a_leak(
    app: HubApp,
    hub_db: HubDatabase,  # noqa: F811
) -> None:
    with _dashboard_stuck(app, hub_db):
        app.wait_for(lambda: app.metric("db_client_connection_count", state="used") == 1, "used")
        result = wait_for_no_leaks(timeout_seconds=1, app_urls=[app.url], dsn=hub_db.admin_dsn)
        slow = wait_until_serving(
            paths=["/readyz"], timeout_seconds=1, max_response_seconds=0.5, app_urls=[app.url]
        )
    assert result["ok"] is False
    assert result["leaks"] == [f"{app.pool_name}: 1 connections checked out, 0 requests waiting "
                               "with no traffic"]  # fmt: skip
    assert result["seconds"] == 1
    assert slow["ok"] is True  # /readyz does not touch the locked table
    # and once it completed, the connection is back: no leak
    after = wait_for_no_leaks(timeout_seconds=5, app_urls=[app.url], dsn=hub_db.admin_dsn)
    assert after["ok"] is True


def test_a_backend_the_pool_does_not_hold_is_a_leak(
    app: HubApp,
    hub_db: HubDatabase,  # noqa: F811
) -> None:
    orphans = [
        psycopg.connect(hub_db.app_dsn, application_name=app.application_name) for _ in range(2)
    ]
    try:
        result = wait_for_no_leaks(timeout_seconds=1, app_urls=[app.url], dsn=hub_db.admin_dsn)
    finally:
        for conn in orphans:
            conn.close()
    assert result["ok"] is False
    (leak,) = result["leaks"]
    assert leak.startswith(f"{app.pool_name}: PostgreSQL holds") and "the pool only" in leak
