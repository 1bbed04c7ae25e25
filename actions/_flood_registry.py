"""Running floods: a process-wide registry so a rollback, the safety control, or
Ctrl-C can stop every flood, whichever thread runs it.

Each flood runs its own asyncio loop in the thread that called the activity
(Chaos Toolkit runs `background: true` activities in worker threads). Stopping
is cooperative: `FloodHandle.request_stop` wakes the flood's loop through
`call_soon_threadsafe`; the flood then closes every connection it holds and
marks itself finished, which is what `stop_all` waits for.
"""

import asyncio
import contextlib
import itertools
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from hubchaos.traffic.loop import new_event_loop as _loop_factory

_lock = threading.Lock()
_running: dict[str, "FloodHandle"] = {}
_ids = itertools.count(1)


@dataclass(eq=False)
class FloodHandle:
    """One running flood, as seen from other threads."""

    id: str
    kind: str
    target: str
    started: float = field(default_factory=time.monotonic)
    open_connections: int = 0  # written by the flood's own thread only
    stop_reason: str | None = None
    finished: threading.Event = field(default_factory=threading.Event)
    _loop: asyncio.AbstractEventLoop | None = None
    _stop_event: asyncio.Event | None = None

    def request_stop(self, reason: str) -> None:
        """Ask the flood to stop; safe from any thread and from signal handlers."""
        with _lock:
            if self.stop_reason is None:
                self.stop_reason = reason
            loop, event = self._loop, self._stop_event
        if loop is not None and event is not None:
            # RuntimeError: the loop already closed, so the flood is over anyway
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    def attach(self, loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
        with _lock:
            self._loop, self._stop_event = loop, event
            already_stopped = self.stop_reason is not None
        if already_stopped:
            event.set()

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "running_seconds": round(time.monotonic() - self.started, 3),
            "open_connections": self.open_connections,
            "stop_reason": self.stop_reason,
        }


def running_floods() -> list[FloodHandle]:
    with _lock:
        return list(_running.values())


def request_stop_all(reason: str) -> int:
    """Signal every running flood to stop without waiting; returns how many."""
    floods = running_floods()
    for flood in floods:
        flood.request_stop(reason)
    return len(floods)


def stop_all(reason: str, timeout: float) -> tuple[list[FloodHandle], list[FloodHandle]]:
    """Stop every running flood and wait until each has closed its connections.

    Returns (stopped, still_running_after_timeout).
    """
    floods = running_floods()
    for flood in floods:
        flood.request_stop(reason)
    deadline = time.monotonic() + timeout
    late = [f for f in floods if not f.finished.wait(max(0.0, deadline - time.monotonic()))]
    return [f for f in floods if f not in late], late


def run_flood(
    kind: str,
    target: str,
    max_seconds: float,
    body: Callable[[FloodHandle, asyncio.Event], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """Run `body` in a fresh event loop in this thread, registered as a flood.

    `body` must return once the event is set; the event is set by stop
    requests and when `max_seconds` have passed, so every flood is bounded in
    time even if nobody stops it.
    """
    if threading.current_thread() is threading.main_thread():
        install_stop_hook(signal.SIGINT)
    handle = FloodHandle(id=f"{kind}-{next(_ids)}", kind=kind, target=target)
    with _lock:
        _running[handle.id] = handle

    async def main() -> dict[str, Any]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        handle.attach(loop, stop)
        deadline = loop.call_later(max_seconds, handle.request_stop, "deadline")
        try:
            result = await body(handle, stop)
        finally:
            deadline.cancel()
        result["stopped_by"] = handle.stop_reason
        return result

    try:
        with asyncio.Runner(loop_factory=_loop_factory) as runner:
            return runner.run(main())
    finally:
        with _lock:
            _running.pop(handle.id, None)
        handle.finished.set()


# --- Ctrl-C and SIGTERM ---------------------------------------------------------------
# A background flood runs in a worker thread, which never sees a signal, and
# Chaos Toolkit waits for background activities after Ctrl-C or SIGTERM. So
# the main thread's handler is chained: it first tells every flood to stop
# (they close their connections and return), then behaves as before.

_previous: dict[int, Callable[[int, FrameType | None], Any]] = {}


def _stop_then_chain(signum: int, frame: FrameType | None) -> None:
    request_stop_all("interrupt" if signum == signal.SIGINT else f"signal {signum}")
    _previous.get(signum, signal.default_int_handler)(signum, frame)


def install_stop_hook(signum: int = signal.SIGINT) -> bool:
    """Make `signum` stop every flood before its current handler runs.

    Only possible from the main thread; idempotent. Called where a run starts
    (hubchaos.runner, the safety control), after chaoslib installed its own
    SIGTERM handler, never at import.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    current = signal.getsignal(signum)
    if current is _stop_then_chain:
        return True
    if not callable(current):  # SIG_IGN / SIG_DFL: whoever set that owns the signal
        return False
    _previous[signum] = current
    signal.signal(signum, _stop_then_chain)
    return True
