"""Login and TCP floods against the real PostgreSQL test cluster
(max_connections=60, 3 reserved for superusers)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from hubchaos.actions.flood import flood_db_connections, flood_tcp_connections, stop_floods
from hubchaos.stack.local.postgres import PostgresCluster
from tests.conftest import refused_port

FLOOD_ROLE = "hubchaos_test_flooder"
LIMITED_ROLE = "hubchaos_test_limited"


def open_connections(cluster: PostgresCluster, application_name: str) -> int:
    with psycopg.connect(cluster.dsn()) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def wait_for_count(
    cluster: PostgresCluster, application_name: str, wanted: int, timeout: float = 15.0
) -> int:
    """Poll until exactly `wanted` connections carry the name (a backend exits
    a moment after its client hangs up)."""
    deadline = time.monotonic() + timeout
    while True:
        count = open_connections(cluster, application_name)
        if count == wanted or time.monotonic() > deadline:
            return count
        time.sleep(0.05)


def wait_for_at_least(
    cluster: PostgresCluster, application_name: str, wanted: int, timeout: float = 15.0
) -> int:
    deadline = time.monotonic() + timeout
    while True:
        count = open_connections(cluster, application_name)
        if count >= wanted or time.monotonic() > deadline:
            return count
        time.sleep(0.05)


def role_dsn(cluster: PostgresCluster, role: str, password: str | None = None) -> str:
    secret = password or role
    return f"postgresql://{role}:{secret}@127.0.0.1:{cluster.port}/postgres"


def flood_in_thread(results: list[dict[str, Any]], **arguments: Any) -> threading.Thread:
    """Run a login flood in a worker thread, as a background activity runs."""
    thread = threading.Thread(target=lambda: results.append(flood_db_connections(**arguments)))
    thread.start()
    return thread


@pytest.fixture(scope="module")
def roles(postgres_cluster: PostgresCluster) -> Iterator[None]:
    """An ordinary login role (like the app's) and one with CONNECTION LIMIT 3."""
    with psycopg.connect(postgres_cluster.dsn(), autocommit=True) as conn:
        for role, limit in ((FLOOD_ROLE, -1), (LIMITED_ROLE, 3)):
            conn.execute(f"DROP ROLE IF EXISTS {role}")
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{role}' CONNECTION LIMIT {limit}")
    yield
    with psycopg.connect(postgres_cluster.dsn(), autocommit=True) as conn:
        for role in (FLOOD_ROLE, LIMITED_ROLE):
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def test_flood_past_max_connections_counts_53300_refusals_and_closes_everything(
    postgres_cluster: PostgresCluster, roles: None
) -> None:
    name = "hubchaos-test-overflow"
    result = flood_db_connections(
        count=75,
        rate=1000,
        hold_seconds=3.0,  # long enough that the first logins still hold their slots
        dsn=role_dsn(postgres_cluster, FLOOD_ROLE),
        application_name=name,
    )
    json.dumps(result)  # the journal stores it
    assert result["attempted"] == 75
    assert result["succeeded"] + result["failed"] == 75
    # 60 slots minus 3 reserved: an ordinary role holds at most 57 at once
    # (other tests of the session may hold a few of them)
    assert 40 <= result["peak_open"] <= 57
    assert result["failed"] > 0
    assert result["refusals_by_sqlstate"] == {"53300": result["failed"]}
    messages = {refusal["message"] for refusal in result["refusals"]}
    assert messages <= {
        "sorry, too many clients already",
        "remaining connection slots are reserved for non-replication superuser connections",
    }
    assert all(r["reason"] == "too_many_connections" for r in result["refusals"])
    assert result["errors_by_kind"] == {}
    assert result["login_latency_ms"]["count"] == result["succeeded"]
    assert 0 < result["login_latency_ms"]["p50"] <= result["login_latency_ms"]["p99"]
    assert result["logins_per_second"] > 0
    assert result["seconds_to_first_refusal"] is not None
    assert result["open_at_end"] == 0
    assert result["stopped_by"] is None
    assert result["target"] == f"{FLOOD_ROLE}@127.0.0.1:{postgres_cluster.port}/postgres"
    assert "password" not in json.dumps(result) and FLOOD_ROLE + ":" not in json.dumps(result)
    assert wait_for_count(postgres_cluster, name, 0) == 0


def test_role_connection_limit_refusals_are_grouped_by_sqlstate_and_message(
    postgres_cluster: PostgresCluster, roles: None
) -> None:
    name = "hubchaos-test-role-limit"
    result = flood_db_connections(
        count=8,
        rate=200,
        hold_seconds=0.5,
        dsn=role_dsn(postgres_cluster, LIMITED_ROLE),
        application_name=name,
    )
    assert result["succeeded"] == 3
    assert result["refusals"] == [
        {
            "sqlstate": "53300",
            "reason": "too_many_connections",
            "message": f'too many connections for role "{LIMITED_ROLE}"',
            "count": 5,
        }
    ]
    assert wait_for_count(postgres_cluster, name, 0) == 0


def test_bad_password_and_closed_port_are_reported_by_kind(
    postgres_cluster: PostgresCluster, roles: None
) -> None:
    wrong = flood_db_connections(
        count=2, rate=100, hold_seconds=0, dsn=role_dsn(postgres_cluster, FLOOD_ROLE, "wrong")
    )
    assert wrong["succeeded"] == 0
    assert wrong["refusals"] == [
        {
            "sqlstate": "28P01",
            "reason": "invalid_password",
            "message": f'password authentication failed for user "{FLOOD_ROLE}"',
            "count": 2,
        }
    ]
    closed = flood_db_connections(
        count=2, rate=100, hold_seconds=0, dsn=f"postgresql://x:y@127.0.0.1:{refused_port()}/db"
    )
    assert closed["refusals"] == []
    assert closed["errors_by_kind"] == {"connection_refused": 2}


def test_stop_floods_from_another_thread_closes_every_connection(
    postgres_cluster: PostgresCluster, roles: None
) -> None:
    name = "hubchaos-test-stop"
    results: list[dict[str, Any]] = []
    flood = flood_in_thread(
        results,
        count=30,
        rate=100,
        hold_seconds=60,
        dsn=role_dsn(postgres_cluster, FLOOD_ROLE),
        application_name=name,
    )
    try:
        assert wait_for_at_least(postgres_cluster, name, 10) >= 10
        started = time.monotonic()
        stopped = stop_floods(timeout_seconds=20)
        took = time.monotonic() - started
    finally:
        flood.join(timeout=60)
    assert not flood.is_alive()
    assert took < 10, f"stop_floods took {took:.1f} s"
    assert stopped["count"] == 1
    (entry,) = stopped["stopped"]
    assert entry["kind"] == "db_logins" and entry["stop_reason"] == "stop_floods"
    # PostgreSQL lists a backend before the client has finished its login, so
    # the flood's own count may trail pg_stat_activity by a handshake or two
    assert entry["open_connections_when_stopped"] >= 5
    (result,) = results
    assert result["stopped_by"] == "stop_floods"
    assert result["open_at_end"] == 0
    # logins still in their handshake when the stop came were abandoned
    assert result["succeeded"] + result["cancelled"] + result["failed"] == result["attempted"]
    assert wait_for_count(postgres_cluster, name, 0) == 0
    assert stop_floods()["count"] == 0  # nothing left to stop


def test_stopping_mid_handshake_counts_every_attempt_and_leaks_nothing(
    postgres_cluster: PostgresCluster, roles: None
) -> None:
    """A login that completes just as the stop arrives must still be closed
    (a leak would also show up as psycopg's ResourceWarning, an error here)."""
    name = "hubchaos-test-midstop"
    for _ in range(3):
        results: list[dict[str, Any]] = []
        flood = flood_in_thread(
            results,
            count=40,
            rate=10_000,
            hold_seconds=60,
            max_connecting=40,
            dsn=role_dsn(postgres_cluster, FLOOD_ROLE),
            application_name=name,
        )
        try:
            assert wait_for_at_least(postgres_cluster, name, 1) >= 1
            stop_floods(timeout_seconds=20)
        finally:
            flood.join(timeout=60)
        (result,) = results
        assert result["succeeded"] + result["cancelled"] + result["failed"] == 40
        assert result["open_at_end"] == 0
        assert wait_for_count(postgres_cluster, name, 0) == 0


def test_a_flood_ends_by_itself_at_max_seconds(
    postgres_cluster: PostgresCluster, roles: None
) -> None:
    name = "hubchaos-test-deadline"
    started = time.monotonic()
    result = flood_db_connections(
        count=5,
        rate=100,
        hold_seconds=120,
        max_seconds=1.0,
        dsn=role_dsn(postgres_cluster, FLOOD_ROLE),
        application_name=name,
    )
    assert time.monotonic() - started < 30
    assert result["stopped_by"] == "deadline"
    assert result["succeeded"] == 5 and result["open_at_end"] == 0
    assert wait_for_count(postgres_cluster, name, 0) == 0


_CHILD = textwrap.dedent(
    """
    import json, signal, sys
    from concurrent.futures import ThreadPoolExecutor
    from hubchaos.actions._flood_registry import install_stop_hook
    from hubchaos.actions.flood import flood_db_connections

    install_stop_hook(signal.SIGINT)  # as hubchaos.runner does when a run starts
    if sys.argv[3] == "SIGTERM":  # as chaoslib does when a run starts
        def terminate(signum, frame):
            raise SystemExit("terminated")
        signal.signal(signal.SIGTERM, terminate)
        install_stop_hook(signal.SIGTERM)

    # As `chaos run` does with a background activity: a worker thread runs the
    # flood while the main thread waits for it, and the signal lands in the main thread.
    pool = ThreadPoolExecutor(1)
    future = pool.submit(
        flood_db_connections, count=12, rate=200, hold_seconds=120,
        dsn=sys.argv[1], application_name=sys.argv[2],
    )
    try:
        pool.shutdown(wait=True)
    except (KeyboardInterrupt, SystemExit):
        pool.shutdown(wait=True)
        print(json.dumps(future.result()), flush=True)
    """
)


@pytest.mark.parametrize(
    ("signum", "reason"), [(signal.SIGINT, "interrupt"), (signal.SIGTERM, "signal 15")]
)
def test_a_signal_stops_a_background_flood_and_leaves_no_connection(
    postgres_cluster: PostgresCluster, roles: None, signum: int, reason: str
) -> None:
    name = f"hubchaos-test-{signal.Signals(signum).name.lower()}"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _CHILD,
            role_dsn(postgres_cluster, FLOOD_ROLE),
            name,
            signal.Signals(signum).name,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for_at_least(postgres_cluster, name, 12, timeout=60) == 12
        child.send_signal(signum)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["stopped_by"] == reason
    assert result["succeeded"] == 12 and result["open_at_end"] == 0
    assert wait_for_count(postgres_cluster, name, 0) == 0


def test_tcp_flood_holds_sockets_and_reports_refusals(postgres_cluster: PostgresCluster) -> None:
    held = flood_tcp_connections(
        host="127.0.0.1", port=postgres_cluster.port, count=10, rate=500, hold_seconds=0.3
    )
    assert held["succeeded"] == 10 and held["peak_open"] == 10 and held["failed"] == 0
    assert held["connect_latency_ms"]["count"] == 10
    assert held["open_at_end"] == 0
    refused = flood_tcp_connections(host="127.0.0.1", port=refused_port(), count=3, rate=500)
    assert refused["succeeded"] == 0
    assert refused["errors_by_kind"] == {"connection_refused": 3}
