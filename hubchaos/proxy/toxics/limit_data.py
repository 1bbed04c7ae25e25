"""limit_data: let `bytes` bytes through, then close the connection."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from hubchaos.proxy.toxics.base import (
    CLOSE,
    MAX_BYTES,
    Attributes,
    PipeHandle,
    Stage,
    ToxicKind,
    int_attribute,
)


@dataclass(frozen=True, slots=True)
class LimitDataAttributes(Attributes):
    bytes: int = int_attribute(maximum=MAX_BYTES, unit="bytes", doc="bytes let through")


class LimitDataStage(Stage):
    __slots__ = ("ended", "passed")

    attrs: LimitDataAttributes

    def __init__(self, pipe: PipeHandle, attrs: Any, rng: random.Random) -> None:
        super().__init__(pipe, attrs, rng)
        self.passed = 0  # counted since the toxic reached this connection
        self.ended = False

    def push(self, data: bytes) -> None:
        if self.ended:
            return
        remaining = self.attrs.bytes - self.passed
        if len(data) > remaining:
            data = data[: max(remaining, 0)]
        if data:
            self.passed += len(data)
            self.next.push(data)
        if self.passed >= self.attrs.bytes:
            self.ended = True
            self.next.finish(CLOSE)

    def finish(self, end: int) -> None:
        if not self.ended:
            self.ended = True
            self.next.finish(end)


KIND = ToxicKind("limit_data", LimitDataAttributes, LimitDataStage)
