"""The blast-radius guard: activities touch loopback only, unless configuration
key `hubchaos_allowed_hosts` names more (host names, addresses or networks)."""

import ipaddress
import os
from collections.abc import Iterable
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from hubchaos.activity.addresses import dsn_hosts, url_host_port

__all__ = [
    "ALLOWED_HOSTS_KEY",
    "allowed_hosts",
    "ensure_allowed_dsn",
    "ensure_allowed_host",
    "ensure_allowed_url",
]

ALLOWED_HOSTS_KEY = "hubchaos_allowed_hosts"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def allowed_hosts(configuration: Configuration | None) -> list[str]:
    """Extra hosts allowed by configuration key (or env) `hubchaos_allowed_hosts`."""
    raw: Any = configuration.get(ALLOWED_HOSTS_KEY) if configuration else None
    if raw in (None, ""):
        raw = os.environ.get(ALLOWED_HOSTS_KEY.upper(), "")
    items: Iterable[Any] = raw.split(",") if isinstance(raw, str) else raw
    return [str(item).strip().lower() for item in items if str(item).strip()]


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _matches(host: str, allowed: str) -> bool:
    if host == allowed:
        return True
    try:  # an allow-list entry may be a network such as 10.0.0.0/24
        return ipaddress.ip_address(host) in ipaddress.ip_network(allowed, strict=False)
    except ValueError:
        return False


def ensure_allowed_host(host: str, configuration: Configuration | None = None) -> None:
    """Refuse to touch a host outside the blast radius.

    Loopback (127.0.0.0/8, ::1, localhost) is always allowed; anything else must
    be listed in configuration key `hubchaos_allowed_hosts` (a list or a comma
    separated string; entries are host names, addresses or networks).
    """
    name = host.strip().strip("[]").lower()
    if not name or name.startswith("/"):
        return  # a Unix-domain socket directory never leaves this machine
    if _is_loopback(name) or any(_matches(name, item) for item in allowed_hosts(configuration)):
        return
    raise ActivityFailed(
        f"refusing to target host '{host}': it is outside the blast radius "
        f"(loopback only by default); to allow it, add it to the configuration key "
        f"'{ALLOWED_HOSTS_KEY}'"
    )


def ensure_allowed_dsn(dsn: str, configuration: Configuration | None) -> None:
    for host in dsn_hosts(dsn):
        ensure_allowed_host(host, configuration)


def ensure_allowed_url(url: str, configuration: Configuration | None) -> None:
    ensure_allowed_host(url_host_port(url)[1], configuration)
