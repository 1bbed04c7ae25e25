"""Which hosts a run may reach: loopback, plus what the experiment allows.

A host passes when its name is loopback ("localhost", 127.0.0.0/8, ::1) or
listed in the configuration key `hubchaos_allowed_hosts` (names, addresses or
networks). A loopback name passes only when every address it resolves to is
loopback (or listed): "localhost" pointed elsewhere in /etc/hosts must not
carry a flood off the machine. An unlisted name passes only when the list
holds networks and every address of the name lies in one of them (or is
loopback). A name the user listed explicitly is taken at its word.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable, Mapping
from typing import Any

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

__all__ = ["ALLOWED_HOSTS_KEY", "allowed_hosts", "host_refusal"]

ALLOWED_HOSTS_KEY = "hubchaos_allowed_hosts"


def allowed_hosts(configuration: Mapping[str, Any] | None) -> list[str]:
    """Extra hosts allowed by configuration key (or env) `hubchaos_allowed_hosts`."""
    raw: Any = configuration.get(ALLOWED_HOSTS_KEY) if configuration else None
    if raw in (None, ""):
        raw = os.environ.get(ALLOWED_HOSTS_KEY.upper(), "")
    items: Iterable[Any] = raw.split(",") if isinstance(raw, str) else raw
    return [str(item).strip().lower() for item in items if str(item).strip()]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return None


def _listed(host: str, allowed: list[str]) -> bool:
    address = _address(host)
    for entry in allowed:
        if host == entry:
            return True
        if address is not None:
            try:  # an allow-list entry may be a network such as 10.0.0.0/24
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def _passes(address: str, allowed: list[str]) -> bool:
    parsed = _address(address)
    return (parsed is not None and parsed.is_loopback) or _listed(address, allowed)


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6), as the activities' sockets see it."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def host_refusal(host: str, allowed: list[str]) -> str | None:
    """Why `host` is outside the blast radius, or None when it may be targeted."""
    name = host.strip().strip("[]").lower()
    if not name or name.startswith("/") or name.startswith("@"):
        return None  # a Unix-domain socket (directory or abstract name) never leaves here
    if _listed(name, allowed):
        return None  # the user vouched for this host (name, address or network)
    literal = _address(name)
    if literal is not None:
        return None if literal.is_loopback else _outside(host, "")
    networks = any("/" in entry for entry in allowed)
    if name not in _LOOPBACK_NAMES and not networks:
        return _outside(host, "")  # an unlisted name: nothing could make it pass
    try:
        addresses = resolve(name)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return _outside(host, f" (it does not resolve: {reason})")
    elsewhere = [address for address in addresses if not _passes(address, allowed)]
    if elsewhere:
        return _outside(host, f" (it resolves to {', '.join(elsewhere)})")
    return None


def _outside(host: str, detail: str) -> str:
    return (
        f"refusing to target host '{host}'{detail}: it is outside the blast radius "
        f"(loopback only by default); to allow it, add it to the configuration key "
        f"'{ALLOWED_HOSTS_KEY}'"
    )
