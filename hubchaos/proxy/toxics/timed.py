"""A stage that releases bytes and ends at scheduled times, in arrival order.

One loop timer per connection direction, armed for the head of the queue, no
task per chunk. Used by latency and slicer.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from typing import Any

from hubchaos.proxy.toxics.base import PipeHandle, Stage

# libuv timers have 1 ms resolution: release what is due within half of it
# rather than re-arming for a few microseconds.
EARLY_S = 0.0005


class TimedStage(Stage):
    __slots__ = ("last_due", "queue", "timer")

    def __init__(self, pipe: PipeHandle, attrs: Any, rng: random.Random) -> None:
        super().__init__(pipe, attrs, rng)
        self.queue: deque[tuple[float, bytes | int]] = deque()
        self.timer: asyncio.TimerHandle | None = None
        self.last_due = 0.0

    def schedule(self, due: float, item: bytes | int, now: float) -> None:
        """Release `item` (bytes, or an end marker) at `due`, after everything queued."""
        if due < self.last_due:
            due = self.last_due  # never overtake: order is kept
        self.last_due = due
        if not self.queue and due <= now + EARLY_S:
            self._release(item)
            return
        self.queue.append((due, item))
        if isinstance(item, bytes):
            self.pipe.hold(len(item))
        if self.timer is None:
            self.timer = self.pipe.loop.call_at(due, self._fire)

    def _release(self, item: bytes | int) -> None:
        if isinstance(item, bytes):
            self.next.push(item)
        else:
            self.next.finish(item)

    def _fire(self) -> None:
        self.timer = None
        queue = self.queue
        horizon = self.pipe.loop.time() + EARLY_S
        while queue and queue[0][0] <= horizon:
            _, item = queue.popleft()
            if isinstance(item, bytes):
                self.pipe.release(len(item))
            self._release(item)
        if queue and self.timer is None:
            self.timer = self.pipe.loop.call_at(queue[0][0], self._fire)

    def detach(self) -> None:
        self._cancel()
        queue = self.queue
        while queue:
            _, item = queue.popleft()
            if isinstance(item, bytes):
                self.pipe.release(len(item))
            self._release(item)

    def dispose(self) -> None:
        self._cancel()
        held = sum(len(item) for _, item in self.queue if isinstance(item, bytes))
        self.queue.clear()
        if held:
            self.pipe.release(held)

    def _cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
