"""Raw TCP connection flood: connect, hold the socket idle, close."""

import asyncio
import errno
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from hubchaos.traffic.held_connections import ConnectionTally, hold_connections
from hubchaos.traffic.loop import ConnectionGauge
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


def error_kind(error: BaseException) -> str:
    if isinstance(error, asyncio.TimeoutError | TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(error, OSError) and error.errno is not None:
        return errno.errorcode.get(error.errno, type(error).__name__).lower()
    return type(error).__name__


@dataclass
class _Tally(ConnectionTally):
    closed_by_peer: int = 0
    errors: Counter[str] = field(default_factory=Counter)


async def tcp_connection_flood(
    plan: TcpFloodPlan, target: str, handle: ConnectionGauge, stop: asyncio.Event
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    tally = _Tally()

    def connect() -> Awaitable[tuple[asyncio.Transport, _Idle]]:
        return asyncio.wait_for(
            loop.create_connection(_Idle, plan.host, plan.port), plan.connect_timeout
        )

    async def close(connection: tuple[asyncio.Transport, _Idle]) -> None:
        transport, protocol = connection
        if protocol.closed_by_peer:
            tally.closed_by_peer += 1
        transport.abort()  # no lingering FIN_WAIT: the slot is free at once

    def failed(error: BaseException) -> None:
        tally.errors[error_kind(error)] += 1

    await hold_connections(plan, tally, handle, stop, connect, close, failed)
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
