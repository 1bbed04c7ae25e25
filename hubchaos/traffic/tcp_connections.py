"""Raw TCP connection flood: connect, hold the socket idle, close."""

import asyncio
import errno
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hubchaos.traffic.loop import ConnectionGauge
from hubchaos.traffic.pacing import attempt_until_stopped, paced, wait_or_stop
from hubchaos.traffic.stats import latency_summary, per_second


@dataclass
class TcpFloodPlan:
    host: str
    port: int
    count: int
    rate: float
    hold_seconds: float
    connect_timeout: float
    max_connecting: int


class _Idle(asyncio.Protocol):
    """Discards whatever the server sends; notices when it hangs up on us."""

    def __init__(self) -> None:
        self.closed_by_peer = False

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> bool:
        self.closed_by_peer = True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed_by_peer = True


async def _abort(connection: tuple[asyncio.Transport, _Idle]) -> None:
    connection[0].abort()


def error_kind(error: BaseException) -> str:
    if isinstance(error, asyncio.TimeoutError | TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(error, OSError) and error.errno is not None:
        return errno.errorcode.get(error.errno, type(error).__name__).lower()
    return type(error).__name__


@dataclass
class _Tally:
    begin: float = field(default_factory=time.perf_counter)
    attempted: int = 0
    succeeded: int = 0
    open: int = 0
    peak_open: int = 0
    cancelled: int = 0
    closed_by_peer: int = 0
    connect_seconds: list[float] = field(default_factory=list)
    last_connect_at: float | None = None
    errors: Counter[str] = field(default_factory=Counter)


async def tcp_connection_flood(
    plan: TcpFloodPlan, target: str, handle: ConnectionGauge, stop: asyncio.Event
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    tally = _Tally()

    async def one_connection(
        _index: int, stop_waiter: "asyncio.Future[Any]", in_flight: asyncio.Semaphore
    ) -> None:
        tally.attempted += 1
        started = time.perf_counter()
        attempt = asyncio.ensure_future(
            asyncio.wait_for(
                loop.create_connection(_Idle, plan.host, plan.port), plan.connect_timeout
            )
        )
        try:
            await attempt_until_stopped(attempt, stop_waiter, _abort)
        finally:
            in_flight.release()
        if attempt.cancelled():
            tally.cancelled += 1
            return
        error = attempt.exception()
        if error is not None:
            tally.errors[error_kind(error)] += 1
            return
        transport, protocol = attempt.result()
        now = time.perf_counter()
        tally.connect_seconds.append(now - started)
        tally.last_connect_at = now
        tally.succeeded += 1
        tally.open += 1
        handle.open_connections = tally.open
        tally.peak_open = max(tally.peak_open, tally.open)
        try:
            await wait_or_stop(stop_waiter, plan.hold_seconds)
        finally:
            if protocol.closed_by_peer:
                tally.closed_by_peer += 1
            transport.abort()  # no lingering FIN_WAIT: the slot is free at once
            tally.open -= 1
            handle.open_connections = tally.open

    await paced(plan.count, plan.rate, plan.max_connecting, stop, one_connection)
    now = time.perf_counter()
    return {
        "kind": "tcp_connections",
        "target": target,
        "attempted": tally.attempted,
        "succeeded": tally.succeeded,
        "failed": sum(tally.errors.values()),
        "cancelled": tally.cancelled,
        "peak_open": tally.peak_open,
        "open_at_end": tally.open,
        "closed_by_peer": tally.closed_by_peer,
        "errors_by_kind": dict(tally.errors),
        "connect_latency_ms": latency_summary(tally.connect_seconds),
        "connects_per_second": per_second(
            tally.succeeded, (tally.last_connect_at or now) - tally.begin
        ),
        "duration_seconds": round(now - tally.begin, 3),
    }
