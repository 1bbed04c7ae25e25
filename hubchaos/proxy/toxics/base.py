"""What every toxic is made of: validated attributes and a per-connection stage.

A toxic type is a frozen dataclass of integer attributes plus a `Stage` class.
One stage runs per live connection and direction: the link pushes bytes into
the first stage, each stage hands them on to `next` (another stage or the
link's sink that writes to the socket), and the chain can be rewired while
bytes flow. Stages are plain callbacks and loop timers, never tasks, so a
connection with toxics costs a few small objects.

Rules every stage keeps: bytes leave in the order they came, none are
duplicated, and none are dropped unless the connection is being ended
(CLOSE/RESET follows the last byte that got through).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from dataclasses import dataclass
from typing import Any, Protocol, Self

from hubchaos.proxy.errors import BadRequest, InvalidAttribute, bad_body

# How a direction ends, passed down the chain after the last byte.
EOF = 1  # the sender half-closed: write EOF to the receiver
CLOSE = 2  # a toxic ends the connection: close both sides after flushing
RESET = 3  # a toxic resets the connection: RST both sides, drop what is unsent

MAX_MILLISECONDS = 86_400_000  # one day: anything longer is a typo, not a fault
MAX_BYTES = 1 << 50


class Downstream(Protocol):
    """Where a stage hands its output: the next stage or the link's sink."""

    def push(self, data: bytes) -> None: ...

    def finish(self, end: int) -> None: ...


class PipeHandle(Protocol):
    """The part of a link direction a stage may use."""

    loop: asyncio.AbstractEventLoop
    # Loop time the chunk being pushed arrived in the kernel, while it is pushed
    # straight from a read of a stamping endpoint; 0.0 otherwise.
    arrived: float

    def hold(self, nbytes: int) -> None:
        """Count bytes a stage keeps back, so the reader can be paused."""

    def release(self, nbytes: int) -> None:
        """Count held bytes that left the stage."""


def int_attribute(
    *, minimum: int = 0, maximum: int = MAX_MILLISECONDS, unit: str = "ms", doc: str = ""
) -> Any:
    """A toxic attribute: an integer, 0 when absent from the request."""
    return dataclasses.field(
        default=0, metadata={"min": minimum, "max": maximum, "unit": unit, "doc": doc}
    )


@dataclass(frozen=True, slots=True)
class Attributes:
    """Base of every toxic's attributes; subclasses add `int_attribute()` fields."""

    def check(self) -> None:
        """Rules across attributes; raise InvalidAttribute."""

    def to_json(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def parse(cls, raw: object, type_name: str, base: Attributes | None = None) -> Self:
        """Build from request JSON; absent attributes keep `base` values (or 0)."""
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise bad_body(f"field 'attributes' must be a JSON object, got {raw!r}")
        known = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, int] = base.to_json() if base is not None else {}
        for key, value in raw.items():
            if value is None:
                continue  # null counts as absent, as upstream's Go decoding has it
            spec = known.get(key)
            if spec is None:
                expected = ", ".join(known) or "none"
                raise BadRequest(
                    f"invalid attribute {key!r}: unknown for toxic type {type_name} "
                    f"(expected: {expected})"
                )
            values[key] = _integer(key, value, spec.metadata)
        made = cls(**values)
        made.check()
        return made


def _integer(name: str, value: object, meta: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_body(f"attribute {name!r} must be an integer, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise InvalidAttribute(f"attribute {name!r}", f"must be an integer, got {value!r}")
        value = int(value)
    low, high, unit = meta["min"], meta["max"], meta["unit"]
    if not low <= value <= high:
        unit_text = f" {unit}" if unit else ""
        raise InvalidAttribute(
            f"attribute {name!r}", f"{value} is out of range {low}..{high}{unit_text}"
        )
    return value


class Stage:
    """One toxic acting on one direction of one connection. Default: pass through."""

    __slots__ = ("attrs", "next", "pipe", "rng")

    @property
    def wants_arrival(self) -> bool:
        """True: the link should stamp chunks with their kernel arrival time."""
        return False

    def __init__(self, pipe: PipeHandle, attrs: Any, rng: random.Random) -> None:
        self.pipe = pipe
        self.attrs = attrs
        self.rng = rng
        self.next: Downstream = _UNWIRED

    def push(self, data: bytes) -> None:
        self.next.push(data)

    def finish(self, end: int) -> None:
        self.next.finish(end)

    def configure(self, attrs: Any) -> None:
        """New attributes for a live connection (PATCH of the toxic)."""
        self.attrs = attrs

    def detach(self) -> None:
        """The toxic is being removed: hand on everything held back, now."""

    def dispose(self) -> None:
        """The connection is gone: cancel timers, drop buffers."""


class _Unwired:
    def push(self, data: bytes) -> None:
        raise RuntimeError("stage used before it was wired into a link")

    def finish(self, end: int) -> None:
        raise RuntimeError("stage used before it was wired into a link")


_UNWIRED = _Unwired()


@dataclass(frozen=True)
class ToxicKind:
    """A registered toxic type: its name, attributes and stage class."""

    name: str
    attributes: type[Attributes]
    stage: type[Stage]
