"""slow_close: hold the end of a direction back for `delay` ms; bytes pass untouched."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from hubchaos.proxy.toxics.base import Attributes, PipeHandle, Stage, ToxicKind, int_attribute


@dataclass(frozen=True, slots=True)
class SlowCloseAttributes(Attributes):
    delay: int = int_attribute(doc="how long the close is held back")


class SlowCloseStage(Stage):
    __slots__ = ("pending", "timer")

    attrs: SlowCloseAttributes

    def __init__(self, pipe: PipeHandle, attrs: Any, rng: random.Random) -> None:
        super().__init__(pipe, attrs, rng)
        self.timer: asyncio.TimerHandle | None = None
        self.pending = 0

    def finish(self, end: int) -> None:
        if self.pending:
            return
        self.pending = end
        self.timer = self.pipe.loop.call_later(self.attrs.delay / 1000.0, self._release)

    def _release(self) -> None:
        self.timer = None
        end, self.pending = self.pending, 0
        self.next.finish(end)

    def detach(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self._release()

    def dispose(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


KIND = ToxicKind("slow_close", SlowCloseAttributes, SlowCloseStage)
