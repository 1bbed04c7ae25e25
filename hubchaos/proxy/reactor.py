"""One epoll set for every proxied socket, watched by the event loop as a single fd.

Registering a socket with the loop itself (add_reader/add_writer) costs a
libuv handle and several syscalls each time interest changes; here a socket
costs one epoll_ctl when first watched and one per change of interest, and
events are dispatched in batches. Timers and the API stay on the loop.

After socket work the reactor keeps polling for SPIN_S before the loop may
sleep: a request and its answer usually follow each other within tens of
microseconds, and waking a sleeping process (an idle CPU, in a VM) costs
about as much again on every hop. The spin runs as loop callbacks, so timers
and the API are served in between, and it yields the CPU to anything else
runnable; an idle proxy does not spin.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

IN = select.EPOLLIN
OUT = select.EPOLLOUT
READ_EVENTS = select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR
WRITE_EVENTS = select.EPOLLOUT | select.EPOLLHUP | select.EPOLLERR
BATCH = 512
BUDGET_S = 0.005  # longest stretch of socket work before the loop gets a turn
SWEEP_S = 0.5
SPIN_S = 0.0002


class Watched(Protocol):
    fd: int
    mask: int
    # Handled after the rest of the batch: listeners, so no fd is reused within
    # it, and reads whose delay counts from kernel arrival (they lose nothing).
    deferred: bool

    def on_event(self, events: int) -> None: ...

    def crashed(self) -> None:
        """on_event raised: drop whatever the target was doing."""


class Reactor:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.epoll = select.epoll()
        self.watched: dict[int, Watched] = {}
        # key -> (deadline, callback); few at a time (connects in progress)
        self.deadlines: dict[object, tuple[float, Callable[[], None]]] = {}
        self.sweeper: asyncio.TimerHandle | None = None
        self.spinner: asyncio.Handle | None = None
        self.spin_until = 0.0
        loop.add_reader(self.epoll.fileno(), self._dispatch)

    def watch(self, target: Watched, mask: int) -> None:
        """Set the events wanted for `target`'s fd (0: stop watching it)."""
        old = target.mask
        if mask == old:
            return
        target.mask = mask
        if old == 0:
            self.epoll.register(target.fd, mask)
            self.watched[target.fd] = target
        elif mask == 0:
            self.epoll.unregister(target.fd)
            del self.watched[target.fd]
        else:
            self.epoll.modify(target.fd, mask)

    def forget(self, target: Watched) -> None:
        """The fd is about to be closed: closing it leaves the epoll set by itself."""
        if target.mask:
            target.mask = 0
            del self.watched[target.fd]

    def _dispatch(self) -> bool:
        """Serve the ready sockets; whether there were any."""
        ready = self.epoll.poll(0, BATCH)
        if not ready:
            return False
        watched = self.watched
        later = []
        started = time.monotonic()
        budget_end = started + BUDGET_S
        for fd, events in ready:
            target = watched.get(fd)
            if target is None:
                continue  # closed earlier in this batch
            if target.deferred:
                later.append((target, events))
                continue
            _deliver(target, events)
            if time.monotonic() > budget_end:
                # Let the API and timers run; epoll is level-triggered, so the
                # sockets not served yet are reported again on the next round.
                break
        # Deferred targets already picked are served even past the budget, so a
        # steady stream of other work can't starve them.
        for target, events in later:
            if target.mask:
                _deliver(target, events)
        self.spin_until = started + SPIN_S
        if self.spinner is None:
            self.spinner = self.loop.call_soon(self._spin)
        return True

    def _spin(self) -> None:
        """Poll again after the loop's turn, until SPIN_S passes without socket events."""
        self.spinner = None
        if self._dispatch():
            return  # re-armed by _dispatch
        if time.monotonic() < self.spin_until:
            os.sched_yield()  # let whatever else this CPU has run first
            self.spinner = self.loop.call_soon(self._spin)

    def set_deadline(self, key: object, delay: float, callback: Callable[[], None]) -> None:
        """Run `callback` about `delay` s from now (within SWEEP_S) unless cleared first.

        Cheaper than a loop timer per connection: one sweep serves them all.
        """
        self.deadlines[key] = (self.loop.time() + delay, callback)
        if self.sweeper is None:
            self.sweeper = self.loop.call_later(SWEEP_S, self._sweep)

    def clear_deadline(self, key: object) -> None:
        self.deadlines.pop(key, None)

    def _sweep(self) -> None:
        self.sweeper = None
        now = self.loop.time()
        due = [key for key, (deadline, _) in self.deadlines.items() if deadline <= now]
        for key in due:
            entry = self.deadlines.pop(key, None)
            if entry is not None:
                entry[1]()
        if self.deadlines:
            self.sweeper = self.loop.call_later(SWEEP_S, self._sweep)

    def close(self) -> None:
        self.loop.remove_reader(self.epoll.fileno())
        self.epoll.close()
        if self.sweeper is not None:
            self.sweeper.cancel()
        if self.spinner is not None:
            self.spinner.cancel()


def _deliver(target: Watched, events: int) -> None:
    try:
        target.on_event(events)
    except Exception:  # a bug must cost one connection, not the proxy
        log.exception("error handling socket events")
        target.crashed()
