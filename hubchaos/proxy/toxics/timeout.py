"""timeout: stop all data; close the connection after `timeout` ms without data.

Upstream semantics (Toxiproxy >= 2.1.1): bytes arriving while the toxic is on
are discarded and restart the idle timer; `timeout` 0 never closes; removing
the toxic closes the connection, since bytes were lost and the stream can't go
on as if nothing happened.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from hubchaos.proxy.toxics.base import (
    CLOSE,
    Attributes,
    PipeHandle,
    Stage,
    ToxicKind,
    int_attribute,
)


@dataclass(frozen=True, slots=True)
class TimeoutAttributes(Attributes):
    timeout: int = int_attribute(doc="idle time before the close; 0 never closes")


class TimeoutStage(Stage):
    __slots__ = ("ended", "timer")

    attrs: TimeoutAttributes

    def __init__(self, pipe: PipeHandle, attrs: Any, rng: random.Random) -> None:
        super().__init__(pipe, attrs, rng)
        self.timer: asyncio.TimerHandle | None = None
        self.ended = False
        self._restart()

    def _restart(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.attrs.timeout > 0 and not self.ended:
            self.timer = self.pipe.loop.call_later(self.attrs.timeout / 1000.0, self._expire)

    def _expire(self) -> None:
        self.timer = None
        self._end()

    def _end(self) -> None:
        if not self.ended:
            self.ended = True
            self.next.finish(CLOSE)

    def push(self, data: bytes) -> None:
        self._restart()  # dropped, but the peer is not idle

    def finish(self, end: int) -> None:
        """The sender's end is swallowed too; the timer still closes."""

    def configure(self, attrs: Any) -> None:
        self.attrs = attrs
        self._restart()

    def detach(self) -> None:
        self.dispose()
        self._end()

    def dispose(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


KIND = ToxicKind("timeout", TimeoutAttributes, TimeoutStage)
