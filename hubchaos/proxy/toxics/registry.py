"""Every toxic type by name; the API and the config file look types up here."""

from __future__ import annotations

from hubchaos.proxy.toxics import (
    bandwidth,
    latency,
    limit_data,
    reset_peer,
    slicer,
    slow_close,
    timeout,
)
from hubchaos.proxy.toxics.base import ToxicKind

KINDS: dict[str, ToxicKind] = {
    kind.name: kind
    for kind in (
        latency.KIND,
        bandwidth.KIND,
        slow_close.KIND,
        timeout.KIND,
        reset_peer.KIND,
        slicer.KIND,
        limit_data.KIND,
    )
}


def lookup(type_name: str) -> ToxicKind | None:
    return KINDS.get(type_name)
