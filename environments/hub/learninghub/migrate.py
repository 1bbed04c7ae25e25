"""`migrate`: database, app role, schema and seed; idempotent and fast when already done.

Runs as a superuser. The app role's CONNECTION LIMIT is set on every run to
exactly the value asked for (-1 = no limit), so switching profiles is a re-run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from learninghub import schema, seed
from learninghub.database import first_line
from learninghub.errors import ConfigError, LearninghubError

APP_ROLE = "learninghub"
APP_PASSWORD = "learninghub"  # loopback test stack only; documented in the README
LOCK_KEY = 0x1EA2_4B0B  # serialises concurrent migrate runs on one cluster


class MigrationError(LearninghubError):
    """The database refused a migration step; the message names the step."""


@dataclass(frozen=True)
class MigrationResult:
    database: str
    created_database: bool
    seeded: bool
    row_counts: dict[str, int]
    role_connection_limit: int
    seconds: float


def migrate(
    dsn: str,
    role_connection_limit: int = -1,
    size: seed.SeedSize | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> MigrationResult:
    if role_connection_limit < -1:
        raise ConfigError(
            f"--role-connection-limit must be -1 (no limit) or >= 0, got {role_connection_limit}"
        )
    try:
        target = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"--dsn is not a valid connection string: {first_line(exc)}") from None
    dbname = str(target.get("dbname") or "")
    if not dbname:
        raise ConfigError("--dsn must name the database to migrate (dbname=... or /NAME)")
    where = f"{target.get('host', 'localhost')}:{target.get('port', 5432)}/{dbname}"
    started = perf_counter()
    with _connect(make_conninfo(dsn, dbname="postgres"), where) as admin:
        _step(admin, "lock", "SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        created = _ensure_database(admin, dbname)
        _ensure_role(admin, dbname, role_connection_limit)
        progress(f"role {APP_ROLE}: connection limit {role_connection_limit}")
        with _connect(dsn, where) as conn:
            seeded, counts = _ensure_schema(conn, size or seed.SeedSize(), progress)
    return MigrationResult(
        database=dbname,
        created_database=created,
        seeded=seeded,
        row_counts=counts,
        role_connection_limit=role_connection_limit,
        seconds=perf_counter() - started,
    )


def _connect(conninfo: str, where: str) -> psycopg.Connection[Any]:
    try:
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise MigrationError(f"cannot connect to {where}: {first_line(exc)}") from None
    conn.execute("SET statement_timeout = 0")
    return conn


def _step(
    conn: psycopg.Connection[Any], label: str, query: Any, params: Any = None
) -> psycopg.Cursor[Any]:
    try:
        return conn.execute(query, params)
    except psycopg.Error as exc:
        raise MigrationError(f"migrate step '{label}' failed: {first_line(exc)}") from None


def _ensure_database(admin: psycopg.Connection[Any], dbname: str) -> bool:
    exists = _step(
        admin, "find database", "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)
    )
    if exists.fetchone():
        return False
    _step(admin, "create database", sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return True


def _ensure_role(admin: psycopg.Connection[Any], dbname: str, connection_limit: int) -> None:
    role = sql.Identifier(APP_ROLE)
    found = _step(admin, "find role", "SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,))
    if not found.fetchone():
        _step(admin, "create role", sql.SQL("CREATE ROLE {} LOGIN").format(role))
    _step(
        admin,
        "alter role",
        sql.SQL("ALTER ROLE {} WITH LOGIN NOSUPERUSER PASSWORD {} CONNECTION LIMIT {}").format(
            role, sql.Literal(APP_PASSWORD), sql.Literal(connection_limit)
        ),
    )
    _step(
        admin,
        "grant connect",
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(dbname), role),
    )


def _ensure_schema(
    conn: psycopg.Connection[Any], size: seed.SeedSize, progress: Callable[[str], None]
) -> tuple[bool, dict[str, int]]:
    with conn.transaction():
        version = _schema_version(conn)
        seeded = False
        if version is None:
            _step(conn, "create tables", schema.TABLES)
            anchor = _step(conn, "anchor", "SELECT date_trunc('day', now())").fetchone()
            params = _seed_params(size, anchor[0] if anchor else datetime.now())
            for label, statement in seed.STEPS:
                started = perf_counter()
                rows = _step(conn, f"seed {label}", statement, params).rowcount
                progress(f"seeded {label}: {rows} rows in {perf_counter() - started:.1f} s")
            _step(conn, "create indexes", schema.INDEXES)
            _step(
                conn,
                "record version",
                "INSERT INTO hub_meta (key, value) VALUES ('schema_version', %s), "
                "('seeded_at', %s::text)",
                (str(schema.SCHEMA_VERSION), params["anchor"]),
            )
            _step(conn, "analyze", "ANALYZE")
            seeded = True
        elif version != schema.SCHEMA_VERSION:
            raise MigrationError(
                f"database has schema version {version}, this learninghub knows "
                f"{schema.SCHEMA_VERSION}: drop the database or upgrade learninghub"
            )
        else:
            progress(f"schema version {version} already present: seed skipped")
        _grant_app_role(conn)
        return seeded, _row_counts(conn)


def _schema_version(conn: psycopg.Connection[Any]) -> int | None:
    _step(conn, "lock", "SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY + 1,))
    table = _step(conn, "find meta", "SELECT to_regclass('public.hub_meta')").fetchone()
    if not table or table[0] is None:
        return None
    row = _step(
        conn, "read version", "SELECT value FROM hub_meta WHERE key = 'schema_version'"
    ).fetchone()
    return int(row[0]) if row else None


def _seed_params(size: seed.SeedSize, anchor: datetime) -> dict[str, Any]:
    return {
        "anchor": anchor,
        "students": size.students,
        "courses": size.courses,
        "messages": size.messages,
        "per_course": size.assignments_per_course,
    }


def _grant_app_role(conn: psycopg.Connection[Any]) -> None:
    role = sql.Identifier(APP_ROLE)
    for statement in (
        "GRANT USAGE ON SCHEMA public TO {}",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}",
        "GRANT INSERT ON messages TO {}",
        "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}",
    ):
        _step(conn, "grant", sql.SQL(statement).format(role))


def _row_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    counts = {}
    for table in (
        "students",
        "courses",
        "enrolments",
        "assignments",
        "grades",
        "rooms",
        "messages",
    ):
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        row = _step(conn, f"count {table}", query).fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts
