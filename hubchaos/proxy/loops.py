"""Refusing an upstream that is one of this server's own listeners.

A proxy whose upstream is its own listen address (or another proxy's) sends
every connection back into the server: one client then opens connections
until the descriptors run out. Toxiproxy 2.12 accepts such a proxy (201);
hubchaos answers 400 naming the listener. Checking every new listener and
every upstream change against the listeners that exist then rules out cycles
of any length, not only a proxy pointing at itself.

Only IP literals and `localhost` are compared: the API never resolves other
host names (that could stall it), so a name that resolves back to this
server is not caught here.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterable

from hubchaos.proxy.errors import BadRequest

_WILDCARDS = ("", "0.0.0.0", "::")
_LOOPBACK = {"localhost": ("127.0.0.1", "::1")}


def _addresses(host: str) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The IP addresses `host` stands for, without resolving names ({} for a name)."""
    names = _LOOPBACK.get(host.lower(), (host,))
    found: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    for name in names:
        with contextlib.suppress(ValueError):
            address = ipaddress.ip_address(name)
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                address = address.ipv4_mapped
            if address.is_unspecified:  # connecting to 0.0.0.0 reaches this host
                address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
            found.add(address)
    return found


def _is_local(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True when `address` belongs to this host (a wildcard listener answers on it)."""
    if address.is_loopback:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:  # binding succeeds only on a local address; no packet is sent
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


def reaches(upstream: tuple[str, int], listener: tuple[str, int]) -> bool:
    """True when connecting to `upstream` lands on `listener`."""
    up_host, up_port = upstream
    listen_host, listen_port = listener
    if up_port != listen_port or listen_port == 0:
        return False
    targets = _addresses(up_host)
    if listen_host in _WILDCARDS:
        return any(_is_local(address) for address in targets)
    return bool(targets & _addresses(listen_host))


def refuse_loop(
    upstream_text: str, upstream: tuple[str, int], listeners: Iterable[tuple[str, tuple[str, int]]]
) -> None:
    """Raise 400 when `upstream` is one of `listeners` ((proxy name, listen address) pairs)."""
    for name, listener in listeners:
        if reaches(upstream, listener):
            raise BadRequest(
                f"invalid upstream: {upstream_text} is the listen address of proxy {name!r}; "
                "traffic would loop back into this server"
            )
