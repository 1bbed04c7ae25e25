"""latency: delay every chunk by `latency` ms, +/- `jitter` ms, keeping order."""

from __future__ import annotations

from dataclasses import dataclass

from hubchaos.proxy.toxics.base import Attributes, ToxicKind, int_attribute
from hubchaos.proxy.toxics.timed import TimedStage


@dataclass(frozen=True, slots=True)
class LatencyAttributes(Attributes):
    latency: int = int_attribute(doc="delay added to each chunk")
    jitter: int = int_attribute(doc="random +/- variation of the delay, drawn per chunk")


class LatencyStage(TimedStage):
    __slots__ = ()

    attrs: LatencyAttributes

    def push(self, data: bytes) -> None:
        attrs = self.attrs
        delay = attrs.latency
        if attrs.jitter:
            delay += self.rng.randint(-attrs.jitter, attrs.jitter)
        now = self.pipe.loop.time()
        self.schedule(now + max(delay, 0) / 1000.0, data, now)

    def finish(self, end: int) -> None:
        # The end follows the last delayed chunk; it is not delayed itself.
        now = self.pipe.loop.time()
        self.schedule(now, end, now)


KIND = ToxicKind("latency", LatencyAttributes, LatencyStage)
