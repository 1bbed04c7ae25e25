"""The bounded connection pool and instrumented queries.

Every borrowed connection goes back to the pool, whatever happens to the
request (error, statement timeout, cancellation): `session()` returns it in a
shielded `finally`. psycopg errors are translated here into learninghub errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import math
import os
from collections.abc import AsyncIterator, Mapping
from time import perf_counter
from typing import Any

import psycopg
from psycopg import AsyncConnection, errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolClosed, PoolTimeout

from learninghub.errors import (
    ConfigError,
    DatabaseUnavailable,
    LearninghubError,
    PoolExhausted,
    QueryTimedOut,
)
from learninghub.login_errors import counting_connection_class, login_sqlstate
from learninghub.metrics import HubMetrics, PoolSnapshot
from learninghub.queries import Query
from learninghub.settings import Settings

log = logging.getLogger("learninghub.pool")

# How long the pool keeps retrying one failed login before giving up on it;
# short so its exponential backoff never grows past a few seconds and the pool
# reconnects promptly once the database is back (a request re-triggers growth).
RECONNECT_TIMEOUT = 5.0

# Extra time a query gets on the client side beyond the server's statement
# timeout, so a connection whose server went silent cannot hold a request forever.
CLIENT_GUARD_MARGIN = 2.0

Row = dict[str, Any]


class ConstraintViolated(LearninghubError):
    """An INSERT broke an integrity constraint; the route decides what it means."""

    def __init__(self, constraint: str) -> None:
        super().__init__(f"constraint {constraint} violated")
        self.constraint = constraint


def connection_kwargs(settings: Settings, connect_timeout: float | None = None) -> dict[str, Any]:
    """Per-connection parameters: identity for pg_stat_activity, limits, autocommit."""
    try:
        in_dsn = conninfo_to_dict(settings.dsn)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"LEARNINGHUB_DSN is not a valid connection string: {exc}") from None
    kwargs: dict[str, Any] = {
        "application_name": settings.application_name,
        "connect_timeout": max(1, math.ceil(connect_timeout or settings.connect_timeout)),
        # Reads need no transaction; single INSERTs commit by themselves.
        "autocommit": True,
    }
    if settings.statement_timeout_ms:
        # Sent in the startup packet: no extra round trip per connection.
        options = str(in_dsn.get("options") or "")
        kwargs["options"] = f"{options} -c statement_timeout={settings.statement_timeout_ms}"
    return kwargs


def login_role(settings: Settings) -> str:
    """The PostgreSQL role this app logs in as (libpq's default: the OS user)."""
    with contextlib.suppress(psycopg.ProgrammingError):
        user = conninfo_to_dict(settings.dsn).get("user")
        if user:
            return str(user)
    return os.environ.get("PGUSER") or getpass.getuser()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Database:
    """The app's one pool plus the bookkeeping its metrics need."""

    def __init__(self, settings: Settings, metrics: HubMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.role = login_role(settings)
        self.pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            settings.dsn,
            connection_class=counting_connection_class(self.count_login_failure),
            kwargs=connection_kwargs(settings),
            min_size=settings.pool_min,
            max_size=settings.pool_max,
            timeout=settings.pool_timeout,
            # Bounded here, not by psycopg_pool: it keeps timed-out waiters queued until a
            # connection is handed out, so after an outage its queue stays "full" forever.
            max_waiting=0,
            reconnect_timeout=RECONNECT_TIMEOUT,
            reconnect_failed=self._on_reconnect_failed,
            name=settings.pool_name,
            open=False,
        )
        self._used = 0
        self._waiting = 0
        self.completed_queries = 0  # evidence for the health checker that the database answers
        guard = settings.statement_timeout
        self.client_guard = guard + CLIENT_GUARD_MARGIN if guard else None
        metrics.watch_pool(self.snapshot)

    async def open(self) -> None:
        """Start the pool without waiting for the database: the app must start while it is down."""
        await self.pool.open(wait=False)
        log.info(
            "pool opened",
            extra={
                "min_size": self.pool.min_size,
                "max_size": self.pool.max_size,
                "timeout_s": self.settings.pool_timeout,
                "max_waiting": self.settings.pool_max_waiting,
                "statement_timeout_ms": self.settings.statement_timeout_ms,
                "application_name": self.settings.application_name,
            },
        )

    async def close(self) -> None:
        await self.pool.close(timeout=5.0)
        log.info("pool closed")

    def count_login_failure(self, error: BaseException) -> None:
        """Every failed login of this app (pool or health probe), by SQLSTATE."""
        self.metrics.count_login_failure(self.role, login_sqlstate(error))

    def snapshot(self) -> PoolSnapshot:
        stats = self.pool.get_stats()
        return PoolSnapshot(
            used=self._used,
            idle=stats.get("pool_available", 0),
            max_size=self.pool.max_size,
            pending_requests=self._waiting,
            connection_errors=stats.get("connections_errors", 0),
        )

    def live_connections(self) -> int:
        snap = self.snapshot()
        return snap.used + snap.idle

    @contextlib.asynccontextmanager
    async def session(
        self, timeout: float | None = None, observe_wait: bool = True
    ) -> AsyncIterator[Session]:
        """Borrow a connection for one request; 503-type errors when none comes in time.

        `observe_wait=False` keeps internal checks out of the request-facing
        wait-time and timeout metrics.
        """
        wait = self.settings.pool_timeout if timeout is None else timeout
        started = perf_counter()
        limit = self.settings.pool_max_waiting
        if limit and self._waiting >= limit:
            if observe_wait:
                self.metrics.pool_rejections.inc()
            raise PoolExhausted(f"database pool full: {limit} requests already waiting")
        self._waiting += 1
        try:
            conn = await self.pool.getconn(wait)
        except PoolTimeout:
            if observe_wait:
                self.metrics.connection_timeouts.inc()
            raise PoolExhausted(f"no database connection free within {wait:g} s") from None
        except PoolClosed:
            raise DatabaseUnavailable("database pool is closed (shutting down)") from None
        finally:
            self._waiting -= 1
        if observe_wait:
            self.metrics.connection_wait.observe(perf_counter() - started)
        self._used += 1
        try:
            yield Session(conn, self)
        finally:
            self._used -= 1
            # Shielded: a cancelled request must still hand its connection back.
            await asyncio.shield(self.pool.putconn(conn))

    def _on_reconnect_failed(self, pool: AsyncConnectionPool[Any]) -> None:
        log.warning(
            "pool gave up one reconnection attempt; a waiting request will start another",
            extra={"reconnect_timeout_s": RECONNECT_TIMEOUT},
        )

    def _record(self, query: Query, seconds: float, ok: bool) -> None:
        self.metrics.observe_operation(query.operation, seconds)
        if ok:
            self.completed_queries += 1


class Session:
    """One borrowed connection; each query is timed and its errors translated."""

    def __init__(self, conn: AsyncConnection[Any], database: Database) -> None:
        self.conn = conn
        self.database = database

    async def fetch_all(self, query: Query, params: Mapping[str, Any] | None = None) -> list[Row]:
        started = perf_counter()
        ok = False
        try:
            async with asyncio.timeout(self.database.client_guard):
                async with self.conn.cursor(row_factory=dict_row) as cursor:
                    await cursor.execute(query.sql, params)
                    rows = await cursor.fetchall()
            ok = True
            return rows
        except errors.QueryCanceled:
            raise QueryTimedOut(
                f"database query {query.name} exceeded the statement timeout "
                f"({self.database.settings.statement_timeout_ms} ms)"
            ) from None
        except TimeoutError:
            raise QueryTimedOut(
                f"database did not answer query {query.name} within "
                f"{self.database.client_guard:g} s"
            ) from None
        except errors.IntegrityError as exc:
            raise ConstraintViolated(exc.diag.constraint_name or "unknown") from None
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"database connection failed: {first_line(exc)}") from None
        finally:
            self.database._record(query, perf_counter() - started, ok)

    async def fetch_one(self, query: Query, params: Mapping[str, Any] | None = None) -> Row | None:
        rows = await self.fetch_all(query, params)
        return rows[0] if rows else None
