"""The faithful flood: PostgreSQL logins, the way the oversized pools made them.

Each login is a real libpq connection (psycopg AsyncConnection), held idle for
a while and then closed. Refusals are grouped by SQLSTATE and server message
(see `db_refusals`).
"""

import asyncio
import contextlib
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psycopg

from hubchaos.traffic.db_refusals import classify
from hubchaos.traffic.held_connections import ConnectionTally, hold_connections
from hubchaos.traffic.loop import ConnectionGauge
from hubchaos.traffic.stats import latency_summary, per_second


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
class _Tally(ConnectionTally):
    first_refusal_at: float | None = None
    refusals: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)

    def failed(self, error: BaseException) -> None:
        """A login that did not happen: refused by the server (by SQLSTATE) or lost on the way."""
        if isinstance(error, asyncio.TimeoutError):
            self.transport_errors["timeout"] += 1
            return
        state, reason, message = classify(error)
        if state is None:
            self.transport_errors[reason] += 1
        else:
            self.refusals[(state, reason, message)] += 1
            if self.first_refusal_at is None:
                self.first_refusal_at = time.perf_counter()

    def result(self, target: str) -> dict[str, Any]:
        now = time.perf_counter()
        login_phase = (self.last_connect_at or now) - self.begin
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
            "login_latency_ms": latency_summary(self.connect_seconds),
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
    plan: DbFloodPlan, target: str, handle: ConnectionGauge, stop: asyncio.Event
) -> dict[str, Any]:
    tally = _Tally()
    await hold_connections(
        plan, tally, handle, stop, lambda: _connect(plan), _close_quietly, tally.failed
    )
    return tally.result(target)
