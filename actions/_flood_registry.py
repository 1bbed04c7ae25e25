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
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from hubchaos import ledger as fault_ledger
from hubchaos.ledger.interrupt import raise_interrupt
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
    undo: dict[str, Any] | None = None,
    configuration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run `body` in a fresh event loop in this thread, registered as a flood.

    `body` must return once the event is set; the event is set by stop
    requests and when `max_seconds` have passed, so every flood is bounded in
    time even if nobody stops it. The flood is in the fault ledger while it
    runs (`undo`: what the dead man's switch does if this process dies; by
    default nothing, its sockets close with the process).
    """
    foreground = threading.current_thread() is threading.main_thread()
    if foreground:
        install_stop_hook(signal.SIGINT)
    handle = FloodHandle(id=f"{kind}-{next(_ids)}", kind=kind, target=target)
    entry = fault_ledger.record(
        f"flood:{kind}", target, undo or {"action": "flood.process"}, configuration, note=False
    )
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
        with _signals_deferred(foreground), asyncio.Runner(loop_factory=_loop_factory) as runner:
            return runner.run(main())
    finally:
        with _lock:
            _running.pop(handle.id, None)
        handle.finished.set()
        fault_ledger.settle(entry, configuration)


# --- Ctrl-C, SIGTERM and SIGHUP --------------------------------------------------------
# A background flood runs in a worker thread, which never sees a signal, and
# Chaos Toolkit waits for background activities after Ctrl-C or SIGTERM. So
# the main thread's handler is chained: it first tells every flood to stop
# (they close their connections and return), then behaves as before.
#
# A FOREGROUND flood runs its loop in the main thread, where uvloop calls the
# Python handler inside a loop callback and only logs what it raises: the
# interruption (KeyboardInterrupt, chaoslib's InterruptExecution) would be
# lost. So while one runs, the handler only stops the flood and keeps the
# signal; the flood re-delivers it to the chained handler once its loop has
# returned. SIGTERM and SIGHUP interrupt as a KeyboardInterrupt would (see
# hubchaos.ledger.interrupt). A second signal exits at once (exit 5): whatever is still
# injected is left to the dead man's switch, which sees the pid gone.

EXIT_INTERRUPTED = 5
_previous: dict[int, Callable[[int, FrameType | None], Any]] = {}
_deferring = threading.local()
_pending: list[tuple[int, FrameType | None]] = []
_signals_seen: list[int] = []


def _stop_then_chain(signum: int, frame: FrameType | None) -> None:
    _signals_seen.append(signum)
    if len(_signals_seen) > 1:
        os.write(2, b"hubchaos: second signal: exiting now; the dead man's switch undoes faults\n")
        os._exit(EXIT_INTERRUPTED)
    request_stop_all("interrupt" if signum == signal.SIGINT else f"signal {signum}")
    if getattr(_deferring, "active", False):
        _pending.append((signum, frame))
        return
    _deliver(signum, frame)


def _deliver(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGINT:
        _previous.get(signum, signal.default_int_handler)(signum, frame)
    raise_interrupt(signum, frame)


@contextlib.contextmanager
def _signals_deferred(foreground: bool) -> Iterator[None]:
    """While a foreground flood's loop runs, signals are kept and re-delivered after it."""
    if not foreground:
        yield
        return
    _deferring.active = True
    try:
        yield
    finally:
        _deferring.active = False
        if _pending:
            signum, frame = _pending.pop(0)
            _pending.clear()
            _deliver(signum, frame)


def reset_signal_count() -> None:
    """A new experiment starts: the next signal is a first one again."""
    _signals_seen.clear()


def install_stop_hook(signum: int = signal.SIGINT) -> bool:
    """Make `signum` stop every flood before its current handler runs.

    Only possible from the main thread; idempotent. Called where a run starts
    (hubchaos.runner, the safety control), after chaoslib installed its own
    SIGTERM handler, never at import; SIGHUP, hooked too, then interrupts the
    run as SIGTERM does.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    current = signal.getsignal(signum)
    if current is _stop_then_chain:
        return True
    if signum == signal.SIGHUP and current in (signal.SIG_DFL, None):
        current = raise_interrupt
    if not callable(current):  # SIG_IGN / SIG_DFL: whoever set that owns the signal
        return False
    _previous[signum] = current
    signal.signal(signum, _stop_then_chain)
    return True
