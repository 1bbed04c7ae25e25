"""The pool degrades gracefully: fast 503 + Retry-After, no hang, no leaked connection."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.hub.conftest import HubApp, HubDatabase, StartApp, parse_metrics
from tests.hub.load import Outcome, dashboard_paths, fire, students_locked

TOLERANCE = 2.5  # seconds of scheduling slack on a busy 2-core machine


def assert_no_leak(app: HubApp, hub_db: HubDatabase, pool_max: int) -> None:
    """Every borrowed connection came back, and PostgreSQL sees exactly the idle ones."""
    app.wait_for(
        lambda: app.metric("db_client_connection_count", state="used") == 0, "used connections 0"
    )
    assert app.metric("db_client_connection_pending_requests") == 0
    idle = app.metric("db_client_connection_count", state="idle")
    in_postgres = hub_db.connections_of(app.application_name)
    assert in_postgres <= pool_max
    assert in_postgres == idle, f"PostgreSQL sees {in_postgres} connections, pool idle {idle}"


def test_exhausted_pool_answers_503_with_retry_after_within_the_pool_timeout(
    start_app: StartApp, hub_db: HubDatabase
) -> None:
    app = start_app(pool_min=3, pool_max=3, pool_timeout=0.5)

    async def scenario() -> tuple[list[Outcome], httpx.Response, str]:
        async with students_locked(hub_db.admin_dsn):
            load = asyncio.create_task(fire(app.url, dashboard_paths(200), concurrency=40))
            await asyncio.sleep(1.2)  # the 3 connections hang on the lock meanwhile
            async with httpx.AsyncClient(base_url=app.url, timeout=5) as client:
                ready = await client.get("/readyz")
                metrics = (await client.get("/metrics")).text
        return await load, ready, metrics

    outcomes, ready, metrics_while_stalled = asyncio.run(scenario())

    # Busy is not down: still ready, and the database still counts as reachable.
    assert ready.json() == {"status": "ready", "pool": "busy"}
    stalled = parse_metrics(metrics_while_stalled)
    assert app.metric("learninghub_db_up", stalled) == 1
    assert app.metric("db_client_connection_count", stalled, state="used") == 3
    assert app.metric("db_client_connection_pending_requests", stalled) > 0

    assert len(outcomes) == 200
    statuses = {o.status for o in outcomes}
    assert statuses <= {200, 503}, f"unexpected statuses (0 = client gave up): {statuses}"
    refused = [o for o in outcomes if o.status == 503]
    assert refused, "a pool of 3 stalled for seconds under 40 concurrent requests must refuse some"
    assert any(o.status == 200 for o in outcomes)
    assert all(o.retry_after is not None and int(o.retry_after) >= 1 for o in refused)
    slowest = max(o.seconds for o in refused)
    assert slowest <= 0.5 + TOLERANCE, f"a 503 took {slowest:.2f} s with a 0.5 s pool timeout"

    assert app.metric("db_client_connection_timeouts_total") == len(refused)
    assert app.metric(
        "http_server_request_duration_seconds_count",
        http_route="/students/{id}/dashboard",
        http_request_method="GET",
        http_response_status_code="503",
    ) == len(refused)
    assert_no_leak(app, hub_db, pool_max=3)


def test_full_wait_queue_refuses_at_once(start_app: StartApp, hub_db: HubDatabase) -> None:
    app = start_app(pool_min=3, pool_max=3, pool_timeout=5, pool_max_waiting=2)

    async def scenario() -> list[Outcome]:
        async with students_locked(hub_db.admin_dsn):
            load = asyncio.create_task(fire(app.url, dashboard_paths(20), concurrency=20))
            # 3 requests hold connections, 2 wait, the other 15 must come back at once.
            deadline = time.monotonic() + 4.0
            while (
                time.monotonic() < deadline
                and app.metric("learninghub_db_pool_rejections_total") < 15
            ):
                await asyncio.sleep(0.1)
        return await load

    outcomes = asyncio.run(scenario())

    refused = [o for o in outcomes if o.status == 503]
    served = [o for o in outcomes if o.status == 200]
    assert len(refused) == 15 and len(served) == 5, sorted(o.status for o in outcomes)
    assert all(o.retry_after for o in refused)
    slowest = max(o.seconds for o in refused)
    assert slowest < 5 / 2, f"a rejection took {slowest:.2f} s: it waited instead of refusing"
    assert app.metric("learninghub_db_pool_rejections_total") == 15
    assert app.metric("db_client_connection_timeouts_total") == 0
    assert_no_leak(app, hub_db, pool_max=3)


def test_statement_timeout_cancels_the_query_and_keeps_the_connection(
    start_app: StartApp, hub_db: HubDatabase
) -> None:
    app = start_app(pool_min=2, pool_max=2, pool_timeout=2, statement_timeout_ms=300)

    async def stalled_request() -> httpx.Response:
        async with students_locked(hub_db.admin_dsn), httpx.AsyncClient(timeout=10) as client:
            return await client.get(f"{app.url}/students/7/dashboard")

    started = time.monotonic()
    response = asyncio.run(stalled_request())
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert "statement timeout" in response.json()["error"]
    assert response.headers["retry-after"] == "1"
    assert elapsed < 0.3 + TOLERANCE + 1.0  # + lock setup; "statement timeout" above rules out
    # the client-side guard (statement timeout + 2 s) having answered instead
    assert app.get("/students/7/dashboard").status_code == 200
    assert_no_leak(app, hub_db, pool_max=2)
    assert hub_db.connections_of(app.application_name) == 2  # reused, not replaced


def test_client_disconnect_returns_the_connection(start_app: StartApp, hub_db: HubDatabase) -> None:
    app = start_app(pool_min=2, pool_max=2, pool_timeout=5)

    async def impatient_clients() -> list[Outcome]:
        async with students_locked(hub_db.admin_dsn):
            outcomes = await fire(app.url, dashboard_paths(4), concurrency=4, timeout=0.5)
            await asyncio.sleep(0.5)  # the server still holds the stalled queries
        return outcomes

    outcomes = asyncio.run(impatient_clients())

    assert [o.status for o in outcomes] == [0, 0, 0, 0], "clients should have hung up"
    assert_no_leak(app, hub_db, pool_max=2)
    assert app.get("/students/7/dashboard").status_code == 200
