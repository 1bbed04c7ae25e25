"""The loop both connection floods share: open connections at a paced rate, hold each
idle, close it, and count what happened.

What a connection is (a PostgreSQL login, a raw TCP socket), how it closes and
what its failures mean belong to the flood (`db_logins`, `tcp_connections`);
this module counts attempts, successes, connect latency and how many are open
(shown live through the flood's `ConnectionGauge`).
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from hubchaos.traffic.loop import ConnectionGauge
from hubchaos.traffic.pacing import attempt_until_stopped, paced, wait_or_stop

__all__ = ["ConnectionTally", "HoldPlan", "hold_connections"]

C = TypeVar("C")


class HoldPlan(Protocol):
    """How many connections, how fast, and how long each is held (a flood's plan)."""

    count: int
    rate: float  # new connections per second
    hold_seconds: float
    max_connecting: int  # attempts still connecting at once


@dataclass
class ConnectionTally:
    begin: float = field(default_factory=time.perf_counter)
    attempted: int = 0
    succeeded: int = 0
    open: int = 0
    peak_open: int = 0
    cancelled: int = 0  # stopped mid-handshake
    connect_seconds: list[float] = field(default_factory=list)
    last_connect_at: float | None = None


async def hold_connections(
    plan: HoldPlan,
    tally: ConnectionTally,
    gauge: ConnectionGauge,
    stop: asyncio.Event,
    connect: Callable[[], Awaitable[C]],
    close: Callable[[C], Awaitable[None]],
    failed: Callable[[BaseException], None],
) -> None:
    """Open `plan.count` connections with `connect()`, hold each, then `close` it.

    A connection attempt that fails is handed to `failed` (the flood counts it
    by its own kinds); one the stop event cuts short is counted as cancelled;
    one made as the stop arrived is still counted and closed.
    """

    async def one(
        _index: int, stop_waiter: "asyncio.Future[Any]", in_flight: asyncio.Semaphore
    ) -> None:
        tally.attempted += 1
        started = time.perf_counter()
        attempt = asyncio.ensure_future(connect())
        try:
            await attempt_until_stopped(attempt, stop_waiter, close)
        finally:
            in_flight.release()
        if attempt.cancelled():
            tally.cancelled += 1
            return
        error = attempt.exception()
        if error is not None:
            failed(error)
            return
        connection = attempt.result()
        now = time.perf_counter()
        tally.connect_seconds.append(now - started)
        tally.last_connect_at = now
        tally.succeeded += 1
        tally.open += 1
        gauge.open_connections = tally.open
        tally.peak_open = max(tally.peak_open, tally.open)
        try:
            await wait_or_stop(stop_waiter, plan.hold_seconds)
        finally:
            await close(connection)
            tally.open -= 1
            gauge.open_connections = tally.open

    await paced(plan.count, plan.rate, plan.max_connecting, stop, one)
