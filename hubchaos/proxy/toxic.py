"""A toxic as the API sees it: name, type, stream, toxicity, attributes, and its RNG."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from hubchaos.proxy import errors
from hubchaos.proxy.errors import BadRequest, InvalidAttribute
from hubchaos.proxy.toxics.base import Attributes, Stage, ToxicKind
from hubchaos.proxy.toxics.registry import lookup

if TYPE_CHECKING:
    from hubchaos.proxy.toxics.base import PipeHandle

STREAMS = ("upstream", "downstream")
CREATE_FIELDS = frozenset({"name", "type", "stream", "toxicity", "attributes"})


class Toxic:
    __slots__ = ("attrs", "kind", "name", "rng", "stream", "toxicity")

    def __init__(
        self,
        name: str,
        kind: ToxicKind,
        stream: str,
        toxicity: float,
        attrs: Attributes,
        rng: random.Random,
    ) -> None:
        self.name = name
        self.kind = kind
        self.stream = stream
        self.toxicity = toxicity
        self.attrs = attrs
        self.rng = rng  # seeded per toxic: toxicity draws, jitter, slice sizes

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.kind.name,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": self.attrs.to_json(),
        }

    def draw(self) -> bool:
        """Whether this toxic acts on one more connection (drawn per connection)."""
        if self.toxicity >= 1.0:
            return True
        if self.toxicity <= 0.0:
            return False
        return self.rng.random() < self.toxicity

    def stage_for(self, pipe: PipeHandle) -> Stage | None:
        if not self.draw():
            return None
        return self.kind.stage(pipe, self.attrs, self.rng)


def parse_toxic(body: object, make_rng: Any) -> Toxic:
    """Validate a create-toxic request body (POST /proxies/{p}/toxics)."""
    if not isinstance(body, dict):
        raise errors.bad_body("expected a JSON object")
    _reject_unknown(body, CREATE_FIELDS)
    body = present(body)
    stream = _stream(body.get("stream", "downstream"))
    type_name = body.get("type", "")
    if not isinstance(type_name, str):
        raise errors.invalid_toxic_type()
    name = body.get("name")
    if name is None or name == "":
        name = f"{type_name}_{stream}"
    if not isinstance(name, str):
        raise errors.bad_body(f"field 'name' must be a string, got {name!r}")
    _check_name(name)
    kind = lookup(type_name)
    if kind is None:
        raise errors.invalid_toxic_type()
    toxicity = _toxicity(body.get("toxicity", 1.0))
    attrs = kind.attributes.parse(body.get("attributes"), kind.name)
    return Toxic(name, kind, stream, toxicity, attrs, make_rng(name))


def parse_update(toxic: Toxic, body: object) -> tuple[Attributes, float]:
    """Validate an update body (PATCH or legacy POST): attributes merge, toxicity optional."""
    if not isinstance(body, dict):
        raise errors.bad_body("expected a JSON object")
    _reject_unknown(body, CREATE_FIELDS)
    body = present(body)
    current = {"name": toxic.name, "type": toxic.kind.name, "stream": toxic.stream}
    for field, value in current.items():
        given = body.get(field)
        if given is not None and given != "" and given != value:
            raise InvalidAttribute(field, f"can't be changed ({value!r}); delete and add the toxic")
    toxicity = _toxicity(body.get("toxicity", toxic.toxicity))
    attrs = toxic.kind.attributes.parse(body.get("attributes"), toxic.kind.name, toxic.attrs)
    return attrs, toxicity


def present(body: dict[str, Any]) -> dict[str, Any]:
    """Fields given as null count as absent, as upstream's Go decoding has it."""
    return {key: value for key, value in body.items() if value is not None}


def _reject_unknown(body: dict[str, Any], known: frozenset[str]) -> None:
    for key in body:
        if key not in known:
            raise BadRequest(
                f"invalid field {key!r}: unknown (expected: {', '.join(sorted(known))})"
            )


def _stream(value: object) -> str:
    if not isinstance(value, str) or value.lower() not in STREAMS:
        raise errors.invalid_stream()
    return value.lower()


def _toxicity(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.bad_body(f"field 'toxicity' must be a number from 0 to 1, got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise InvalidAttribute("toxicity", f"{value} is out of range 0..1")
    return float(value)


def _check_name(name: str) -> None:
    if "/" in name or len(name) > 200 or not name.isprintable():
        raise InvalidAttribute("name", "must be printable, at most 200 characters, without '/'")
