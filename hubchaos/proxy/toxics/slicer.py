"""slicer: cut chunks into pieces of about `average_size` bytes, `delay` us apart."""

from __future__ import annotations

from dataclasses import dataclass

from hubchaos.proxy.errors import InvalidAttribute
from hubchaos.proxy.toxics.base import MAX_BYTES, Attributes, ToxicKind, int_attribute
from hubchaos.proxy.toxics.timed import TimedStage

MAX_MICROSECONDS = 60_000_000


@dataclass(frozen=True, slots=True)
class SlicerAttributes(Attributes):
    average_size: int = int_attribute(maximum=MAX_BYTES, unit="bytes", doc="mean piece size")
    size_variation: int = int_attribute(
        maximum=MAX_BYTES, unit="bytes", doc="+/- variation of the piece size"
    )
    delay: int = int_attribute(maximum=MAX_MICROSECONDS, unit="us", doc="pause between pieces")

    def check(self) -> None:
        if self.average_size < 1:
            raise InvalidAttribute("attribute 'average_size'", "must be at least 1 byte")
        if self.size_variation >= self.average_size:
            raise InvalidAttribute(
                "attribute 'size_variation'",
                f"must be smaller than average_size ({self.average_size})",
            )


class SlicerStage(TimedStage):
    __slots__ = ()

    attrs: SlicerAttributes

    def push(self, data: bytes) -> None:
        attrs = self.attrs
        gap = attrs.delay / 1_000_000.0
        now = self.pipe.loop.time()
        start, total = 0, len(data)
        while start < total:
            size = attrs.average_size
            if attrs.size_variation:
                size += self.rng.randint(-attrs.size_variation, attrs.size_variation)
            end = min(total, start + size)
            due = max(now, self.last_due)
            self.schedule(due, data[start:end], now)
            self.last_due = due + gap  # the next piece waits `delay` after this one
            start = end

    def finish(self, end: int) -> None:
        now = self.pipe.loop.time()
        self.schedule(now, end, now)


KIND = ToxicKind("slicer", SlicerAttributes, SlicerStage)
