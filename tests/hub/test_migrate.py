"""`learninghub migrate`: idempotent, deterministic, sets the role's connection limit."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
from psycopg import sql

from learninghub.migrate import migrate
from learninghub.seed import SeedSize
from tests.conftest import free_port, refused_port
from tests.hub.conftest import HubDatabase, run_migrate

FULL_SIZE = {
    "students": 5000,
    "courses": 300,
    "enrolments": 30000,
    "assignments": 4800,
    "grades": 120000,
    "rooms": 304,
}


def fetch(dsn: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query).fetchall()


def role_connection_limit(hub_db: HubDatabase) -> object:
    return fetch(
        hub_db.admin_dsn, "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'learninghub'"
    )[0][0]


def test_seed_has_a_realistic_size(hub_db: HubDatabase) -> None:
    for table, expected in FULL_SIZE.items():
        assert fetch(hub_db.admin_dsn, f"SELECT count(*) FROM {table}") == [(expected,)], table
    assert fetch(hub_db.admin_dsn, "SELECT count(*) >= 50000 FROM messages") == [(True,)]
    empty_rooms = fetch(
        hub_db.admin_dsn,
        "SELECT count(*) FROM rooms r WHERE NOT EXISTS "
        "(SELECT 1 FROM messages m WHERE m.room_id = r.id)",
    )
    assert empty_rooms == [(0,)]


def test_second_run_changes_nothing_and_skips_the_seed(hub_db: HubDatabase) -> None:
    before = fetch(hub_db.admin_dsn, "SELECT value FROM hub_meta ORDER BY key")
    result = run_migrate(hub_db.admin_dsn)
    assert result.returncode == 0, result.stderr
    assert "already up to date" in result.stdout
    assert "seeded" not in result.stdout
    assert fetch(hub_db.admin_dsn, "SELECT value FROM hub_meta ORDER BY key") == before
    for table, expected in FULL_SIZE.items():
        assert fetch(hub_db.admin_dsn, f"SELECT count(*) FROM {table}") == [(expected,)], table


def test_role_connection_limit_is_set_on_every_run(hub_db: HubDatabase) -> None:
    try:
        assert run_migrate(hub_db.admin_dsn, "--role-connection-limit", "7").returncode == 0
        assert role_connection_limit(hub_db) == 7
        with psycopg.connect(hub_db.app_dsn) as conn:  # the app role can still log in and read
            assert conn.execute("SELECT count(*) > 0 FROM students").fetchone() == (True,)
    finally:
        assert run_migrate(hub_db.admin_dsn).returncode == 0
    assert role_connection_limit(hub_db) == -1


def test_seed_is_deterministic(hub_db: HubDatabase) -> None:
    small = SeedSize(students=200, courses=20, messages=500)
    digest = (
        "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM "
        "(SELECT s.full_name, e.course_id, g.points FROM students s "
        "JOIN enrolments e ON e.student_id = s.id "
        "JOIN grades g ON g.student_id = s.id) t "
        "UNION ALL SELECT md5(string_agg(body || room_id || author_id, ',' ORDER BY id)) "
        "FROM messages"
    )
    digests = []
    for name in ("hub_seed_a", "hub_seed_b"):
        dsn = hub_db.admin_dsn.replace("dbname=learninghub_hubtests", f"dbname={name}")
        result = migrate(dsn, size=small)
        assert result.seeded and result.created_database
        assert result.row_counts["students"] == 200
        digests.append(fetch(dsn, digest))
    with psycopg.connect(hub_db.admin_dsn, autocommit=True) as conn:
        for name in ("hub_seed_a", "hub_seed_b"):
            conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
    assert digests[0] == digests[1]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "learninghub", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert fragment in result.stderr


def test_migrate_bad_input_is_one_line(hub_db: HubDatabase) -> None:
    assert_one_line_error(
        run_cli("migrate", "--dsn", hub_db.admin_dsn, "--role-connection-limit", "-5"),
        "--role-connection-limit must be -1",
    )
    assert_one_line_error(
        run_cli("migrate", "--dsn", f"postgresql://hubchaos:hubchaos@127.0.0.1:{refused_port()}/x"),
        "cannot connect to 127.0.0.1:",
    )


def test_serve_bad_settings_are_one_line() -> None:
    assert_one_line_error(
        run_cli("serve", "--port", str(free_port()), env={"LEARNINGHUB_POOL_MAX": "lots"}),
        "LEARNINGHUB_POOL_MAX must be an integer",
    )
    assert_one_line_error(
        run_cli(
            "serve",
            "--port",
            str(free_port()),
            env={"LEARNINGHUB_POOL_MIN": "5", "LEARNINGHUB_POOL_MAX": "2"},
        ),
        "LEARNINGHUB_POOL_MIN must be between 0 and LEARNINGHUB_POOL_MAX",
    )


def test_serve_on_a_busy_port_is_one_line() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert_one_line_error(
            run_cli("serve", "--port", str(port)), f"cannot listen on 127.0.0.1:{port}"
        )
