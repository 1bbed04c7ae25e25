"""`learninghub_db_up`: is the database reachable from this app?

A background task decides once a second, in this order:

1. The pool tried to log in since the last check: up if at least one login
   succeeded, down if every attempt failed (network error, refused login,
   "too many clients").
2. The pool holds live connections and the database was up: still up when a
   query succeeded meanwhile, or when an idle connection answers a ping. A
   pool that is merely busy (no idle connection, queries slow) stays up.
3. Otherwise (no live connection, or the database was down): one direct
   login probe with a short timeout decides.

Connection budget: the probe opens one extra, short-lived connection (same
application_name) only in case 3, so this app holds at most pool max + 1
connections, and the +1 only while its pool has none or the database is failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import psycopg

from learninghub.database import Database, connection_kwargs, first_line
from learninghub.errors import PoolExhausted, ServiceUnavailable
from learninghub.metrics import HubMetrics
from learninghub.queries import PING
from learninghub.settings import Settings

log = logging.getLogger("learninghub.health")

CHECK_INTERVAL = 1.0
PROBE_TIMEOUT = 2.0  # seconds for one login probe or one ping


@dataclass(frozen=True)
class Verdict:
    up: bool
    reason: str


class DatabaseHealth:
    def __init__(self, database: Database, settings: Settings, metrics: HubMetrics) -> None:
        self.database = database
        self.settings = settings
        self.metrics = metrics
        self.up = False
        self.reason = "not checked yet"
        self._attempts = 0
        self._errors = 0
        self._completed = 0

    async def run(self) -> None:
        """Check forever; cancelled by the app's shutdown."""
        while True:
            try:
                await self.check()
            except Exception:  # the checker must outlive any surprise
                log.exception("database health check failed unexpectedly")
            await asyncio.sleep(CHECK_INTERVAL)

    async def check(self) -> Verdict:
        verdict = await self._evaluate()
        if verdict.up != self.up or self.reason == "not checked yet":
            log.log(
                logging.INFO if verdict.up else logging.WARNING,
                "database reachable" if verdict.up else "database unreachable",
                extra={"reason": verdict.reason},
            )
        self.up, self.reason = verdict.up, verdict.reason
        self.metrics.db_up.set(1 if verdict.up else 0)
        return verdict

    async def _evaluate(self) -> Verdict:
        stats = self.database.pool.get_stats()
        attempts = stats.get("connections_num", 0) - self._attempts
        failed = stats.get("connections_errors", 0) - self._errors
        completed = self.database.completed_queries - self._completed
        self._attempts += attempts
        self._errors += failed
        self._completed += completed

        if attempts:
            if attempts > failed:
                return Verdict(True, "pool logged in")
            return Verdict(False, f"pool failed {failed} login attempt(s)")
        snap = self.database.snapshot()
        if snap.used + snap.idle and self.up:
            if completed:
                return Verdict(True, "queries succeed")
            ping = await self._ping_idle(snap.idle)
            if ping is None or ping.up:
                return ping or Verdict(True, "pool busy, connections alive")
        verdict = await self._probe()
        if verdict.up and not self.database.live_connections():
            await self._wake_pool()
        return verdict

    async def _wake_pool(self) -> None:
        """Ask the empty pool for a connection so it grows now, not after its backoff."""
        with contextlib.suppress(ServiceUnavailable, TimeoutError):
            async with (
                asyncio.timeout(PROBE_TIMEOUT),
                self.database.session(timeout=PROBE_TIMEOUT / 2, observe_wait=False) as session,
            ):
                await session.fetch_one(PING)

    async def _ping_idle(self, idle: int) -> Verdict | None:
        """Ping one idle pooled connection; None when none is free right now."""
        if not idle:
            return None
        try:
            async with (
                asyncio.timeout(PROBE_TIMEOUT),
                self.database.session(timeout=0.05, observe_wait=False) as session,
            ):
                await session.fetch_one(PING)
        except PoolExhausted:
            return None  # taken by a request meanwhile: busy, not down
        except Exception as exc:
            return Verdict(False, f"idle connection failed: {first_line(exc)}")
        return Verdict(True, "idle connection answered")

    async def _probe(self) -> Verdict:
        kwargs = connection_kwargs(self.settings, connect_timeout=PROBE_TIMEOUT)
        kwargs.pop("options", None)  # the statement timeout is irrelevant to a login
        try:
            async with asyncio.timeout(PROBE_TIMEOUT + 1):
                conn = await psycopg.AsyncConnection.connect(self.settings.dsn, **kwargs)
                await conn.close()
        except TimeoutError as exc:
            self.database.count_login_failure(exc)
            return Verdict(False, f"login probe timed out after {PROBE_TIMEOUT:g} s")
        except psycopg.Error as exc:
            self.database.count_login_failure(exc)
            return Verdict(False, f"login probe failed: {first_line(exc)}")
        return Verdict(True, "login probe succeeded")
