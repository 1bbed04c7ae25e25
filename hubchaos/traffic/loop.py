"""Running one load in its own event loop, bounded in time.

Chaos Toolkit calls activities from plain threads (worker threads for
`background: true`), so each load gets a fresh loop in the calling thread.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

__all__ = ["ConnectionGauge", "new_event_loop", "run_load"]

try:  # uvloop roughly doubles the HTTP spike's request rate; asyncio works too
    import uvloop

    new_event_loop: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
except ImportError:  # pragma: no cover - uvloop is a declared dependency on Linux
    new_event_loop = None


class ConnectionGauge(Protocol):
    """Where a connection flood shows how many connections it holds right now."""

    open_connections: int


def run_load(
    max_seconds: float, body: Callable[[asyncio.Event], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """Run `body(stop)` in a fresh event loop in this thread; `stop` is set after
    `max_seconds`, so the load ends even if `body` would go on. The result
    says whether that happened: `stopped_by` is "deadline" or None, as for a flood."""

    async def main() -> dict[str, Any]:
        stop = asyncio.Event()
        deadline = asyncio.get_running_loop().call_later(max_seconds, stop.set)
        try:
            result = await body(stop)
        finally:
            deadline.cancel()
        result["stopped_by"] = "deadline" if stop.is_set() else None
        return result

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main())
