"""reset_peer: on the first data, wait `timeout` ms, then reset the connection (TCP RST).

The data that triggers it and everything after is discarded, as upstream.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from hubchaos.proxy.toxics.base import (
    RESET,
    Attributes,
    PipeHandle,
    Stage,
    ToxicKind,
    int_attribute,
)


@dataclass(frozen=True, slots=True)
class ResetPeerAttributes(Attributes):
    timeout: int = int_attribute(doc="delay between the first data and the reset")


class ResetPeerStage(Stage):
    __slots__ = ("state", "timer")

    attrs: ResetPeerAttributes
    IDLE, ARMED, DONE = 0, 1, 2

    def __init__(self, pipe: PipeHandle, attrs: Any, rng: random.Random) -> None:
        super().__init__(pipe, attrs, rng)
        self.timer: asyncio.TimerHandle | None = None
        self.state = self.IDLE

    def push(self, data: bytes) -> None:
        self._trigger()

    def finish(self, end: int) -> None:
        self._trigger()

    def _trigger(self) -> None:
        if self.state != self.IDLE:
            return
        self.state = self.ARMED
        if self.attrs.timeout <= 0:
            self._reset()
        else:
            self.timer = self.pipe.loop.call_later(self.attrs.timeout / 1000.0, self._reset)

    def _reset(self) -> None:
        self.timer = None
        if self.state != self.DONE:
            self.state = self.DONE
            self.next.finish(RESET)

    def configure(self, attrs: Any) -> None:
        self.attrs = attrs
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
            self.state = self.IDLE
            self._trigger()

    def detach(self) -> None:
        # Bytes were already discarded: the connection can't carry on.
        if self.state == self.ARMED:
            self.dispose()
            self._reset()

    def dispose(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


KIND = ToxicKind("reset_peer", ResetPeerAttributes, ResetPeerStage)
