"""The faithful flood: PostgreSQL logins, the way the oversized pools made them.

Each login is a real libpq connection (psycopg AsyncConnection), held idle for
a while and then closed. Refusals are grouped by SQLSTATE and server message.
"""

import asyncio
import contextlib
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psycopg

from hubchaos.actions._flood_pacing import attempt_until_stopped, paced, wait_or_stop
from hubchaos.actions._flood_registry import FloodHandle
from hubchaos.actions._flood_stats import latency_summary, per_second

# libpq reports a refused login as text only (no SQLSTATE is exposed before the
# connection exists), so the server's well-known FATAL messages are mapped back
# to their SQLSTATE. Assumes the server's lc_messages is English (the default).
_REFUSALS: tuple[tuple[str, str, str], ...] = (
    (r"sorry, too many clients already", "53300", "too_many_connections"),
    (r"too many connections for role", "53300", "too_many_connections"),
    (r"too many connections for database", "53300", "too_many_connections"),
    (r"remaining connection slots are reserved", "53300", "too_many_connections"),
    (r"password authentication failed", "28P01", "invalid_password"),
    (r"no pg_hba\.conf entry", "28000", "invalid_authorization_specification"),
    (r"role \".*\" does not exist", "28000", "invalid_authorization_specification"),
    (r"is not permitted to log in", "28000", "invalid_authorization_specification"),
    (r"database \".*\" does not exist", "3D000", "invalid_catalog_name"),
    (r"database system is (starting up|shutting down|in recovery)", "57P03", "cannot_connect_now"),
    (r"terminating connection due to administrator command", "57P01", "admin_shutdown"),
)
# Failures below the SQL level: nothing answered as PostgreSQL.
_TRANSPORT: tuple[tuple[str, str], ...] = (
    (r"connection refused", "connection_refused"),
    (r"timeout expired|timed out", "timeout"),
    (r"connection reset", "connection_reset"),
    (r"server closed the connection unexpectedly|could not receive data", "connection_closed"),
    (r"no route to host|network is unreachable", "unreachable"),
    (r"could not translate host name|name or service not known", "dns_failure"),
)


def server_message(text: str) -> str:
    """The server's own words out of a libpq error ('FATAL:  ...')."""
    match = re.search(r"FATAL:\s+(.*)", text)
    line = match.group(1) if match else text.strip().splitlines()[-1] if text.strip() else text
    return " ".join(line.split())


def classify(error: BaseException) -> tuple[str | None, str, str]:
    """(sqlstate or None, reason, message) of a failed login."""
    text = str(error)
    sqlstate = getattr(error, "sqlstate", None)
    for pattern, state, reason in _REFUSALS:
        if re.search(pattern, text, re.IGNORECASE):
            return sqlstate or state, reason, server_message(text)
    if sqlstate:
        return sqlstate, "server_error", server_message(text)
    for pattern, reason in _TRANSPORT:
        if re.search(pattern, text, re.IGNORECASE):
            return None, reason, server_message(text)
    return None, type(error).__name__, server_message(text)


@dataclass
class DbFloodPlan:
    dsn: str
    count: int
    rate: float
    hold_seconds: float
    connect_timeout: float
    application_name: str
    max_connecting: int


@dataclass
class _Tally:
    begin: float = field(default_factory=time.perf_counter)
    attempted: int = 0
    succeeded: int = 0
    open: int = 0
    peak_open: int = 0
    cancelled: int = 0
    login_seconds: list[float] = field(default_factory=list)
    last_login_at: float | None = None
    first_refusal_at: float | None = None
    refusals: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)

    def result(self, target: str) -> dict[str, Any]:
        now = time.perf_counter()
        login_phase = (self.last_login_at or now) - self.begin
        by_state: Counter[str] = Counter()
        for (state, _reason, _message), n in self.refusals.items():
            by_state[state] += n
        return {
            "kind": "db_logins",
            "target": target,
            "attempted": self.attempted,
            "succeeded": self.succeeded,
            "failed": sum(self.refusals.values()) + sum(self.transport_errors.values()),
            "cancelled": self.cancelled,
            "peak_open": self.peak_open,
            "open_at_end": self.open,
            "refusals": [
                {"sqlstate": state, "reason": reason, "message": message, "count": n}
                for (state, reason, message), n in self.refusals.most_common()
            ],
            "refusals_by_sqlstate": dict(by_state),
            "errors_by_kind": dict(self.transport_errors),
            "login_latency_ms": latency_summary(self.login_seconds),
            "logins_per_second": per_second(self.succeeded, login_phase),
            "seconds_to_first_refusal": (
                round(self.first_refusal_at - self.begin, 3)
                if self.first_refusal_at is not None
                else None
            ),
            "duration_seconds": round(now - self.begin, 3),
        }


async def _connect(plan: DbFloodPlan) -> psycopg.AsyncConnection[Any]:
    # libpq's own connect_timeout has a 2 s floor; the outer wait_for is exact.
    return await asyncio.wait_for(
        psycopg.AsyncConnection.connect(
            plan.dsn,
            autocommit=True,
            connect_timeout=max(2, math.ceil(plan.connect_timeout)),
            application_name=plan.application_name,
        ),
        timeout=plan.connect_timeout,
    )


async def _close_quietly(conn: psycopg.AsyncConnection[Any]) -> None:
    with contextlib.suppress(Exception):  # a connection the server already dropped
        await conn.close()


async def db_login_flood(
    plan: DbFloodPlan, target: str, handle: FloodHandle, stop: asyncio.Event
) -> dict[str, Any]:
    tally = _Tally()

    async def one_login(
        _index: int, stop_waiter: "asyncio.Future[Any]", in_flight: asyncio.Semaphore
    ) -> None:
        tally.attempted += 1
        started = time.perf_counter()
        attempt = asyncio.ensure_future(_connect(plan))
        try:
            await attempt_until_stopped(attempt, stop_waiter, _close_quietly)
        finally:
            in_flight.release()
        if attempt.cancelled():
            tally.cancelled += 1
            return
        error = attempt.exception()
        if error is not None:
            if isinstance(error, asyncio.TimeoutError):
                tally.transport_errors["timeout"] += 1
                return
            state, reason, message = classify(error)
            if state is None:
                tally.transport_errors[reason] += 1
            else:
                tally.refusals[(state, reason, message)] += 1
                if tally.first_refusal_at is None:
                    tally.first_refusal_at = time.perf_counter()
            return
        conn = attempt.result()
        now = time.perf_counter()
        tally.login_seconds.append(now - started)
        tally.last_login_at = now
        tally.succeeded += 1
        tally.open += 1
        handle.open_connections = tally.open
        tally.peak_open = max(tally.peak_open, tally.open)
        try:
            await wait_or_stop(stop_waiter, plan.hold_seconds)
        finally:
            await _close_quietly(conn)
            tally.open -= 1
            handle.open_connections = tally.open

    await paced(plan.count, plan.rate, plan.max_connecting, stop, one_login)
    return tally.result(target)
