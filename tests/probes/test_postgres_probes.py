"""PostgreSQL probes against the real test cluster (max_connections=60,
superuser_reserved_connections=3)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from chaoslib.exceptions import ActivityFailed

from hubchaos.probes.postgres import (
    can_login,
    connection_headroom,
    connections_by_application,
    connections_within_budget,
    ordinary_login_ceiling,
    wait_for_connections_at_most,
)
from hubchaos.stack.local.postgres import PostgresCluster
from tests.conftest import free_port, refused_port

ROLE = "hubchaos_test_probe_role"
LIMITED = "hubchaos_test_probe_limited"


@pytest.fixture(scope="module")
def roles(postgres_cluster: PostgresCluster) -> Iterator[None]:
    with psycopg.connect(postgres_cluster.dsn(), autocommit=True) as conn:
        for role, limit in ((ROLE, -1), (LIMITED, 1)):
            conn.execute(f"DROP ROLE IF EXISTS {role}")
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{role}' CONNECTION LIMIT {limit}")
    yield
    with psycopg.connect(postgres_cluster.dsn(), autocommit=True) as conn:
        for role in (ROLE, LIMITED):
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def dsn_for(cluster: PostgresCluster, role: str, application_name: str) -> str:
    return (
        f"host=127.0.0.1 port={cluster.port} dbname=postgres user={role} password={role} "
        f"application_name={application_name} connect_timeout=5"
    )


@contextlib.contextmanager
def held(dsn: str, count: int) -> Iterator[list[psycopg.Connection]]:
    conns = [psycopg.connect(dsn, autocommit=True) for _ in range(count)]
    try:
        yield conns
    finally:
        for conn in conns:
            conn.close()


def settle(cluster: PostgresCluster, prefix: str, wanted: int) -> None:
    """Backends exit a moment after their client hangs up."""
    result = wait_for_connections_at_most(
        wanted, timeout_seconds=10, application_prefix=prefix, dsn=cluster.dsn()
    )
    assert result["ok"], result


def test_connections_by_application_groups_by_name_user_and_state(
    postgres_cluster: PostgresCluster, roles: None
) -> None:
    dsn_a = dsn_for(postgres_cluster, ROLE, "probe-test-a")
    dsn_b = dsn_for(postgres_cluster, ROLE, "probe-test-b")
    with held(dsn_a, 3), held(dsn_b, 2) as busy:
        # one connection of b in a transaction, so its state differs
        busy[0].execute("BEGIN")
        busy[0].execute("SELECT 1")
        result = connections_by_application(
            application_prefix="probe-test-", dsn=postgres_cluster.dsn()
        )
        busy[0].execute("ROLLBACK")
    assert result["total"] == 5
    assert result["by_application"] == {"probe-test-a": 3, "probe-test-b": 2}
    assert result["by_user"] == {ROLE: 5}
    assert result["by_state"] == {"idle": 4, "idle in transaction": 1}
    groups = {(g["application_name"], g["state"]): g["count"] for g in result["groups"]}
    assert groups == {
        ("probe-test-a", "idle"): 3,
        ("probe-test-b", "idle"): 1,
        ("probe-test-b", "idle in transaction"): 1,
    }
    everything = connections_by_application(dsn=postgres_cluster.dsn())
    assert "hubchaos-probe" not in everything["by_application"]  # the observer never counts
    settle(postgres_cluster, "probe-test-", 0)


def test_connection_headroom_counts_slots_to_both_limits(
    postgres_cluster: PostgresCluster, roles: None
) -> None:
    before = connection_headroom(dsn=postgres_cluster.dsn())
    assert before["max_connections"] == 60
    assert before["superuser_reserved_connections"] == 3
    assert before["non_superuser_limit"] == 57
    with held(dsn_for(postgres_cluster, ROLE, "probe-test-headroom"), 4):
        during = connection_headroom(dsn=postgres_cluster.dsn())
    assert during["total"] == before["total"] + 4
    assert during["headroom"] == 60 - during["total"]
    assert during["headroom_non_superuser"] == 57 - during["total"]
    limits = {entry["role"]: entry for entry in during["role_limits"]}
    assert limits[LIMITED] == {"role": LIMITED, "limit": 1, "current": 0}
    settle(postgres_cluster, "probe-test-headroom", 0)


def test_ordinary_login_ceiling_is_the_servers_own_limit_less_one(
    postgres_cluster: PostgresCluster,
) -> None:
    """60 - 3 reserved - 1: the most connections at which an ordinary role still logs in."""
    ceiling = ordinary_login_ceiling(dsn=postgres_cluster.dsn())
    assert ceiling == connection_headroom(dsn=postgres_cluster.dsn())["non_superuser_limit"] - 1
    assert ceiling == 56
    with pytest.raises(ActivityFailed, match="PostgreSQL observer"):
        ordinary_login_ceiling(dsn=f"postgresql://x:y@127.0.0.1:{refused_port()}/db")


def test_can_login_reports_refusals_with_their_sqlstate(
    postgres_cluster: PostgresCluster, roles: None
) -> None:
    limited = dsn_for(postgres_cluster, LIMITED, "probe-test-login")
    first = can_login(dsn=limited, timeout=5)
    assert first["ok"] is True and first["sqlstate"] is None and first["seconds"] > 0
    with held(limited, 1):
        refused = can_login(dsn=limited, timeout=5)
    assert refused["ok"] is False
    assert refused["sqlstate"] == "53300"
    assert refused["reason"] == "too_many_connections"
    assert refused["message"] == f'too many connections for role "{LIMITED}"'
    nobody = can_login(dsn=f"postgresql://x:y@127.0.0.1:{refused_port()}/db", timeout=2)
    assert nobody["ok"] is False and nobody["reason"] == "connection_refused"
    assert nobody["sqlstate"] is None


def test_connections_within_budget_measures_the_prefix(
    postgres_cluster: PostgresCluster, roles: None
) -> None:
    with held(dsn_for(postgres_cluster, ROLE, "probe-test-budget-1"), 3):
        inside = connections_within_budget(
            budget=3, application_prefix="probe-test-budget", dsn=postgres_cluster.dsn()
        )
        over = connections_within_budget(
            budget=2, application_prefix="probe-test-budget", dsn=postgres_cluster.dsn()
        )
    assert inside["count"] == 3 and inside["within_budget"] is True
    assert over["count"] == 3 and over["within_budget"] is False
    settle(postgres_cluster, "probe-test-budget", 0)


def test_wait_for_connections_at_most_measures_recovery_time(
    postgres_cluster: PostgresCluster, roles: None
) -> None:
    conns = [
        psycopg.connect(dsn_for(postgres_cluster, ROLE, "probe-test-recovery")) for _ in range(4)
    ]

    def close_all() -> None:
        for conn in conns:
            conn.close()

    closer = threading.Timer(1.0, close_all)
    closer.start()
    try:
        recovered = wait_for_connections_at_most(
            0,
            timeout_seconds=20,
            application_prefix="probe-test-recovery",
            poll_interval=0.05,
            dsn=postgres_cluster.dsn(),
        )
    finally:
        closer.join()
    assert recovered["ok"] is True and recovered["count"] == 0
    assert 0.8 <= recovered["seconds"] < 15
    assert recovered["samples"] >= 2


def test_wait_for_connections_at_most_reports_a_missed_deadline(
    postgres_cluster: PostgresCluster, roles: None
) -> None:
    with held(dsn_for(postgres_cluster, ROLE, "probe-test-stuck"), 2):
        stuck = wait_for_connections_at_most(
            1,
            timeout_seconds=0.5,
            application_prefix="probe-test-stuck",
            dsn=postgres_cluster.dsn(),
        )
    assert stuck["ok"] is False and stuck["count"] == 2 and stuck["limit"] == 1
    settle(postgres_cluster, "probe-test-stuck", 0)


def test_probes_fail_naming_the_database_they_could_not_observe() -> None:
    port = free_port()
    dsn = f"postgresql://hubchaos:hubchaos@127.0.0.1:{port}/learninghub"
    with pytest.raises(ActivityFailed) as caught:
        connections_by_application(dsn=dsn)
    message = str(caught.value)
    assert message.startswith(f"PostgreSQL observer hubchaos@127.0.0.1:{port}/learninghub: ")
    assert "Connection refused" in message
    assert "\n" not in message
    started = time.monotonic()
    with pytest.raises(ActivityFailed, match=r"no measurement in 0\.5 s"):
        wait_for_connections_at_most(0, timeout_seconds=0.5, dsn=dsn)
    assert time.monotonic() - started < 10
