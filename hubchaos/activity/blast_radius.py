"""The blast-radius guard: activities touch loopback only, unless configuration
key `hubchaos_allowed_hosts` names more (host names, addresses or networks).

The rule for one host lives in hubchaos.reach (shared with the experiment check
that `hubchaos run` makes before the first activity)."""

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from hubchaos.activity.addresses import dsn_hosts, url_host_port
from hubchaos.reach.hosts import ALLOWED_HOSTS_KEY, allowed_hosts, host_refusal

__all__ = [
    "ALLOWED_HOSTS_KEY",
    "allowed_hosts",
    "ensure_allowed_dsn",
    "ensure_allowed_host",
    "ensure_allowed_url",
]


def ensure_allowed_host(host: str, configuration: Configuration | None = None) -> None:
    """Refuse to touch a host outside the blast radius (rules: hubchaos.reach.hosts).

    Loopback (127.0.0.0/8, ::1, localhost) is always allowed; anything else must
    be listed in configuration key `hubchaos_allowed_hosts` (a list or a comma
    separated string; entries are host names, addresses or networks).
    """
    refusal = host_refusal(host, allowed_hosts(configuration))
    if refusal:
        raise ActivityFailed(refusal)


def ensure_allowed_dsn(dsn: str, configuration: Configuration | None) -> None:
    for host in dsn_hosts(dsn):
        ensure_allowed_host(host, configuration)


def ensure_allowed_url(url: str, configuration: Configuration | None) -> None:
    ensure_allowed_host(url_host_port(url)[1], configuration)
