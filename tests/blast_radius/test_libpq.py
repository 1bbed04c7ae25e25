"""libpq's effective host for a DSN: PGHOST, PGHOSTADDR, PGSERVICE and service files.

Each case is checked against libpq itself: a service file in a temporary
directory sends a host-less DSN to a real PostgreSQL on loopback, and the
guard must name the host libpq really connects to.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from chaoslib.exceptions import ActivityFailed

from hubchaos.activity.blast_radius import ensure_allowed_dsn
from hubchaos.reach.libpq import InvalidDsn, effective_hosts
from hubchaos.stack.local.postgres import PASSWORD, SUPERUSER, PostgresCluster


@pytest.fixture(autouse=True)
def _clean_libpq_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("PGHOST", "PGHOSTADDR", "PGSERVICE", "PGSERVICEFILE", "PGSYSCONFDIR", "PGPORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.pg_service.conf of the machine's


def _service_file(path: Path, services: dict[str, dict[str, object]]) -> Path:
    path.write_text(
        "".join(
            f"[{name}]\n" + "".join(f"{key}={value}\n" for key, value in options.items())
            for name, options in services.items()
        )
    )
    return path


def test_a_dsn_with_its_own_host_is_that_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGHOST", "10.0.0.9")
    assert effective_hosts("host=127.0.0.1,localhost dbname=x") == ["127.0.0.1", "localhost"]
    assert effective_hosts("postgresql://u:p@127.0.0.2:5432/x") == ["127.0.0.2"]


def test_a_dsn_without_host_goes_where_pghost_says(monkeypatch: pytest.MonkeyPatch) -> None:
    assert effective_hosts("dbname=x user=u") == []  # libpq's Unix socket
    monkeypatch.setenv("PGHOST", "10.0.0.9")
    assert effective_hosts("dbname=x user=u") == ["10.0.0.9"]
    with pytest.raises(ActivityFailed, match=r"refusing to target host '10\.0\.0\.9'"):
        ensure_allowed_dsn("postgresql:///x", None)


def test_pghostaddr_is_where_libpq_connects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGHOSTADDR", "10.0.0.8")
    assert effective_hosts("host=localhost dbname=x") == ["localhost", "10.0.0.8"]
    assert effective_hosts("host=localhost hostaddr=127.0.0.1 dbname=x") == [
        "localhost",
        "127.0.0.1",
    ]


def test_pgservice_and_a_service_file_name_the_host(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    services = _service_file(tmp_path / "services.conf", {"far": {"host": "10.1.2.3"}})
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    monkeypatch.setenv("PGSERVICE", "far")
    assert effective_hosts("dbname=x") == ["10.1.2.3"]
    assert effective_hosts("host=127.0.0.1 dbname=x") == ["127.0.0.1"]  # the DSN wins


def test_service_in_the_dsn_wins_over_pgservice(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    services = _service_file(
        tmp_path / "services.conf", {"far": {"host": "10.1.2.3"}, "near": {"host": "127.0.0.5"}}
    )
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    monkeypatch.setenv("PGSERVICE", "near")
    assert effective_hosts("service=far dbname=x") == ["10.1.2.3"]
    assert effective_hosts("postgresql:///x?service=far") == ["10.1.2.3"]
    assert os.environ["PGSERVICE"] == "near"  # put back after the question


def test_home_service_file_and_pgsysconfdir_are_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _service_file(tmp_path / ".pg_service.conf", {"mine": {"host": "10.4.4.4"}})
    assert effective_hosts("service=mine") == ["10.4.4.4"]
    sysconf = tmp_path / "etc"
    sysconf.mkdir()
    _service_file(sysconf / "pg_service.conf", {"shared": {"hostaddr": "10.5.5.5"}})
    monkeypatch.setenv("PGSYSCONFDIR", str(sysconf))
    assert effective_hosts("service=shared") == ["10.5.5.5"]


def test_the_host_named_is_where_libpq_really_connects(
    postgres_cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    services = _service_file(
        tmp_path / "services.conf",
        {"hub": {"host": "127.0.0.1", "port": postgres_cluster.port, "user": SUPERUSER}},
    )
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    dsn = f"service=hub dbname=postgres password={PASSWORD} connect_timeout=5"
    assert effective_hosts(dsn) == ["127.0.0.1"]
    with psycopg.connect(dsn) as conn:  # libpq follows the same service entry
        assert conn.info.host == "127.0.0.1"
        assert conn.info.port == postgres_cluster.port
    ensure_allowed_dsn(dsn, None)  # on loopback: allowed


def test_a_malformed_dsn_is_named_without_its_password() -> None:
    with pytest.raises(InvalidDsn) as caught:
        effective_hosts("host=127.0.0.1 password=sekrit bogus")
    assert "sekrit" not in str(caught.value)
