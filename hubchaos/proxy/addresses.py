"""`host:port` strings as the Toxiproxy API writes them (IPv6 as `[addr]:port`)."""

from __future__ import annotations

import ipaddress

from hubchaos.proxy.errors import InvalidAttribute

_HOST_FORBIDDEN = set(" /\\@?#%\t\r\n")


def parse_address(value: object, field: str, *, allow_zero_port: bool) -> tuple[str, int]:
    """Split `host:port`; an empty host means all interfaces (listen) or localhost."""
    if not isinstance(value, str) or not value:
        raise InvalidAttribute(field, f"must be a 'host:port' string, got {value!r}")
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise InvalidAttribute(field, f"{value!r} is not '[ipv6]:port'")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidAttribute(field, f"{host!r} is not an IPv6 address") from None
    else:
        host, sep, port_text = value.rpartition(":")
        if not sep:
            raise InvalidAttribute(field, f"{value!r} has no port; expected 'host:port'")
        if ":" in host:
            raise InvalidAttribute(field, f"{value!r}: write IPv6 addresses as '[addr]:port'")
        if _HOST_FORBIDDEN & set(host) or len(host) > 253:
            raise InvalidAttribute(field, f"{host!r} is not a valid host name")
    if not port_text.isdigit() or len(port_text) > 5:
        raise InvalidAttribute(field, f"port {port_text!r} is not a number")
    port = int(port_text)
    lowest = 0 if allow_zero_port else 1
    if not lowest <= port <= 65535:
        raise InvalidAttribute(field, f"port {port} is out of range {lowest}..65535")
    return host, port


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
