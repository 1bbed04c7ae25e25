"""The app starts without its database, reports it, answers fast 503s and recovers."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import free_port
from tests.hub.conftest import HubApp, HubDatabase, StartApp
from tests.hub.load import Outcome, dashboard_paths, fire, students_locked
from tests.hub.relay import Relay

POOL_TIMEOUT = 1.0
TOLERANCE = 2.5  # seconds of scheduling slack on a busy 2-core machine


@pytest.fixture
def relay(hub_db: HubDatabase) -> Iterator[Relay]:
    relay = Relay(free_port(), hub_db.cluster.port)
    try:
        yield relay
    finally:
        relay.close()


def refused_logins(app: HubApp, sqlstate: str) -> float:
    """db_client_connection_create_errors_total of the app role for one SQLSTATE (nan: none)."""
    return app.metric(
        "db_client_connection_create_errors_total",
        db_user="learninghub",
        db_response_status_code=sqlstate,
    )


def assert_database_down(app: HubApp) -> None:
    app.wait_for(lambda: app.metric("learninghub_db_up") == 0, "learninghub_db_up 0")
    assert app.get("/healthz").status_code == 200
    ready = app.get("/readyz")
    assert ready.status_code == 503 and ready.headers["retry-after"]
    assert "database" in ready.json()["error"]
    started = time.monotonic()
    page = app.get("/students/1/dashboard")
    assert page.status_code == 503 and page.headers["retry-after"]
    assert time.monotonic() - started <= POOL_TIMEOUT + TOLERANCE


def assert_recovered(app: HubApp) -> None:
    # The pool's reconnect backoff is bounded to a few seconds.
    app.wait_for(lambda: app.get("/readyz").status_code == 200, "/readyz 200", timeout=20)
    # The checker samples once a second, so the gauge may trail /readyz by a tick.
    app.wait_for(lambda: app.metric("learninghub_db_up") == 1, "learninghub_db_up 1")
    assert app.get("/students/1/dashboard").status_code == 200


def test_app_starts_while_the_database_is_down_and_recovers(
    start_app: StartApp, hub_db: HubDatabase, relay: Relay
) -> None:
    app = start_app(
        wait_ready=False,
        dsn=hub_db.app_dsn_via(relay.listen_port),  # nothing listens there yet
        pool_min=1,
        pool_max=2,
        pool_timeout=POOL_TIMEOUT,
    )
    assert_database_down(app)
    assert app.metric("learninghub_db_connection_errors_total") >= 1
    # Nothing answered: counted as unreachable (08001), never as a refused login.
    assert refused_logins(app, "08001") >= 1
    assert math.isnan(refused_logins(app, "53300"))

    relay.start()
    assert_recovered(app)


def test_losing_the_database_is_noticed_and_survived(
    start_app: StartApp, hub_db: HubDatabase, relay: Relay
) -> None:
    relay.start()
    app = start_app(
        dsn=hub_db.app_dsn_via(relay.listen_port),
        pool_min=2,
        pool_max=2,
        pool_timeout=POOL_TIMEOUT,
    )
    assert app.metric("learninghub_db_up") == 1

    relay.stop()  # drops every pooled connection, refuses new ones; no traffic meanwhile
    assert_database_down(app)

    relay.start()
    assert_recovered(app)
    app.wait_for(
        lambda: app.metric("db_client_connection_count", state="used") == 0, "no connection in use"
    )


def test_refused_logins_mean_fast_503s_and_database_down(
    start_app: StartApp, hub_db: HubDatabase
) -> None:
    """The incident's failure mode: PostgreSQL refuses new logins while the pool wants to grow."""
    app = start_app(pool_min=2, pool_max=4, pool_timeout=POOL_TIMEOUT)

    def set_limit(limit: int) -> None:
        with psycopg.connect(hub_db.admin_dsn, autocommit=True) as conn:
            conn.execute(f"ALTER ROLE learninghub CONNECTION LIMIT {limit:d}")

    async def flood_while_stalled() -> list[Outcome]:
        async with students_locked(hub_db.admin_dsn):
            load = asyncio.create_task(fire(app.url, dashboard_paths(12), concurrency=12))
            # Pool full and logins refused: the gauge must say down, not merely busy.
            await asyncio.to_thread(
                app.wait_for, lambda: app.metric("learninghub_db_up") == 0, "learninghub_db_up 0"
            )
            await asyncio.to_thread(
                app.wait_for,
                lambda: app.metric("db_client_connection_timeouts_total") >= 10,
                "10 pool timeouts",
            )
        return await load

    set_limit(2)  # exactly what the pool already holds
    try:
        outcomes = asyncio.run(flood_while_stalled())
        assert hub_db.connections_of(app.application_name) <= 2
    finally:
        set_limit(-1)

    assert {o.status for o in outcomes} <= {200, 503}
    refused = [o for o in outcomes if o.status == 503]
    assert len(refused) >= 10, sorted(o.status for o in outcomes)
    assert max(o.seconds for o in refused) <= POOL_TIMEOUT + TOLERANCE
    assert app.metric("learninghub_db_connection_errors_total") >= 1
    # PostgreSQL answered the logins: a refusal by SQLSTATE 53300, not "unreachable".
    assert refused_logins(app, "53300") >= 1
    assert math.isnan(refused_logins(app, "08001"))
    app.wait_for(lambda: app.metric("learninghub_db_up") == 1, "learninghub_db_up 1")
    assert app.get("/students/1/dashboard").status_code == 200
