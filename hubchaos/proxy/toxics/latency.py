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

    @property
    def wants_arrival(self) -> bool:
        # The delay counts from when the chunk arrived (as upstream, which stamps
        # chunks on read), so time spent waiting for a busy proxy is not added on.
        return bool(self.attrs.latency or self.attrs.jitter)

    def push(self, data: bytes) -> None:
        attrs = self.attrs
        delay = attrs.latency
        if attrs.jitter:
            delay += self.rng.randint(-attrs.jitter, attrs.jitter)
        pipe = self.pipe
        now = pipe.loop.time()
        start = pipe.arrived or now
        if start > now:
            start = now
        self.schedule(start + max(delay, 0) / 1000.0, data, now)

    def finish(self, end: int) -> None:
        # The end follows the last delayed chunk; it is not delayed itself.
        now = self.pipe.loop.time()
        self.schedule(now, end, now)


KIND = ToxicKind("latency", LatencyAttributes, LatencyStage)
