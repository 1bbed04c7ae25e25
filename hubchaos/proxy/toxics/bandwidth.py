"""bandwidth: let bytes through at `rate` KB/s (1 KB = 1000 bytes, as upstream).

Bytes wait in a queue and leave in pieces of about 50 ms worth, each when the
"wire" is free again. `rate` 0 lets nothing through until the toxic is changed
or removed. A new rate applies to the bytes still queued.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from dataclasses import dataclass
from typing import Any

from hubchaos.proxy.toxics.base import Attributes, PipeHandle, Stage, ToxicKind, int_attribute

MAX_RATE_KBPS = 100_000_000  # 100 GB/s: effectively unlimited
PIECES_PER_SECOND = 20
MAX_PIECE = 64 * 1024
CATCH_UP_S = 0.05  # at most this much lateness is made up by sending sooner


@dataclass(frozen=True, slots=True)
class BandwidthAttributes(Attributes):
    rate: int = int_attribute(maximum=MAX_RATE_KBPS, unit="KB/s", doc="throughput limit")


class BandwidthStage(Stage):
    __slots__ = ("free_at", "queue", "timer")

    attrs: BandwidthAttributes

    def __init__(self, pipe: PipeHandle, attrs: Any, rng: random.Random) -> None:
        super().__init__(pipe, attrs, rng)
        self.queue: deque[bytes | int] = deque()
        self.timer: asyncio.TimerHandle | None = None
        self.free_at = 0.0  # when the last piece finished "transmitting"

    def push(self, data: bytes) -> None:
        self.queue.append(data)
        self.pipe.hold(len(data))
        if self.timer is None:
            self._arm()

    def finish(self, end: int) -> None:
        self.queue.append(end)
        if self.timer is None:
            self._arm()

    def configure(self, attrs: Any) -> None:
        self.attrs = attrs
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self._arm()

    def _piece_size(self) -> int:
        return max(1, min(MAX_PIECE, self.attrs.rate * 1000 // PIECES_PER_SECOND))

    def _arm(self, start: float | None = None) -> None:
        """Schedule the head of the queue for when the wire is free."""
        if not self.queue:
            return
        loop = self.pipe.loop
        if start is None:
            start = max(loop.time(), self.free_at)
        head = self.queue[0]
        if isinstance(head, bytes):
            if self.attrs.rate <= 0:
                return  # held until the rate changes or the toxic goes
            start += min(len(head), self._piece_size()) / (self.attrs.rate * 1000.0)
        self.timer = loop.call_at(start, self._fire, start)

    def _fire(self, due: float) -> None:
        self.timer = None
        self.free_at = due
        queue = self.queue
        head = queue[0]
        if isinstance(head, int):
            queue.popleft()
            self.next.finish(head)
        else:
            size = self._piece_size()
            if len(head) <= size:
                queue.popleft()
                piece = head
            else:
                piece, queue[0] = head[:size], head[size:]
            self.pipe.release(len(piece))
            self.next.push(piece)
        if queue and self.timer is None:
            # Continue from the planned time, not from a late timer's "now",
            # so timer lateness does not lower the long-run rate.
            self._arm(max(due, self.pipe.loop.time() - CATCH_UP_S))

    def detach(self) -> None:
        self._cancel()
        queue = self.queue
        while queue:
            item = queue.popleft()
            if isinstance(item, bytes):
                self.pipe.release(len(item))
                self.next.push(item)
            else:
                self.next.finish(item)

    def dispose(self) -> None:
        self._cancel()
        held = sum(len(item) for item in self.queue if isinstance(item, bytes))
        self.queue.clear()
        if held:
            self.pipe.release(held)

    def _cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


KIND = ToxicKind("bandwidth", BandwidthAttributes, BandwidthStage)
