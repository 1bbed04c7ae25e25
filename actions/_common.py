"""Helpers every hubchaos activity shares: configuration look-up, argument
checks, the blast-radius guard and translating foreign errors into
`ActivityFailed`.

Activities receive their targets from parameters or from the experiment's
`configuration`; the look-up order is parameter, configuration key, environment
variable (the key upper-cased), then the local stack's default
(`hubchaos.settings`).
"""

import math
from typing import Any
from urllib.parse import urlsplit

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration
from psycopg.conninfo import conninfo_to_dict

from hubchaos.reach.hosts import allowed_hosts, host_refusal
from hubchaos.reach.libpq import InvalidDsn, effective_hosts
from hubchaos.settings import setting

# Hard ceilings so a typo in an experiment cannot exhaust this machine.
MAX_FLOOD_CONNECTIONS = 10_000
MAX_ACTIVITY_SECONDS = 3_600.0


def app_url(url: str, configuration: Configuration | None) -> str:
    """The application's base URL: the argument or `hubchaos_app_url`."""
    return url or setting("hubchaos_app_url", configuration)


def observer_dsn(dsn: str, configuration: Configuration | None) -> str:
    """DSN for observing PostgreSQL: the argument or `hubchaos_db_dsn`."""
    return dsn or setting("hubchaos_db_dsn", configuration)


def flood_dsn(dsn: str, configuration: Configuration | None) -> str:
    """DSN the login flood uses: the argument or `hubchaos_flood_dsn`."""
    return dsn or setting("hubchaos_flood_dsn", configuration)


def failed(target: str, cause: object) -> ActivityFailed:
    """An ActivityFailed naming what was targeted and why it failed."""
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return ActivityFailed(f"{target}: {text}")


# --- argument checks ------------------------------------------------------------------
# Experiment arguments can arrive as strings (templated from configuration), so
# numbers are coerced here and rejected with a message naming the argument.


def as_int(name: str, value: Any, minimum: int = 0, maximum: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ActivityFailed(f"argument {name} must be an integer, got {value!r}") from None
    if number < minimum or (maximum is not None and number > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise ActivityFailed(f"argument {name} must be at least {minimum}{upper}, got {number}")
    return number


def as_float(
    name: str, value: Any, minimum: float = 0.0, maximum: float = MAX_ACTIVITY_SECONDS
) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ActivityFailed(f"argument {name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < minimum or number > maximum:
        raise ActivityFailed(
            f"argument {name} must be between {minimum:g} and {maximum:g}, got {value!r}"
        )
    return number


def as_positive_float(name: str, value: Any, maximum: float = MAX_ACTIVITY_SECONDS) -> float:
    number = as_float(name, value, 0.0, maximum)
    if number <= 0:
        raise ActivityFailed(f"argument {name} must be greater than 0, got {value!r}")
    return number


# --- blast-radius guard ---------------------------------------------------------------


def ensure_allowed_host(host: str, configuration: Configuration | None = None) -> None:
    """Refuse to touch a host outside the blast radius (rules: hubchaos.reach.hosts).

    Loopback (127.0.0.0/8, ::1, localhost) is always allowed; anything else must
    be listed in configuration key `hubchaos_allowed_hosts` (a list or a comma
    separated string; entries are host names, addresses or networks).
    """
    refusal = host_refusal(host, allowed_hosts(configuration))
    if refusal:
        raise ActivityFailed(refusal)


def dsn_hosts(dsn: str) -> list[str]:
    """Every host a libpq DSN would connect to, PGHOST and service files included."""
    try:
        return effective_hosts(dsn) or ["localhost"]
    except InvalidDsn as exc:
        raise ActivityFailed(f"invalid PostgreSQL DSN: {exc}") from None


def dsn_port(dsn: str) -> int:
    """The (first) port of a libpq DSN; 5432 when it names none."""
    try:
        raw = str(conninfo_to_dict(dsn).get("port") or 5432).split(",")[0]
        return int(raw)
    except Exception:  # a malformed DSN or port
        raise ActivityFailed(f"invalid PostgreSQL DSN {describe_dsn(dsn)}: bad port") from None


def describe_dsn(dsn: str) -> str:
    """`user@host:port/dbname` for messages and results: never the password."""
    try:
        params = conninfo_to_dict(dsn)
    except Exception:
        return "<invalid DSN>"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return (
        f"{params.get('user', '')}@{host}:{params.get('port') or 5432}/{params.get('dbname', '')}"
    )


def ensure_allowed_dsn(dsn: str, configuration: Configuration | None) -> None:
    for host in dsn_hosts(dsn):
        ensure_allowed_host(host, configuration)


def url_host_port(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; ActivityFailed when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ActivityFailed(f"invalid URL {url!r}: expected http://host[:port][/path]")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ActivityFailed(f"invalid URL {url!r}: bad port") from None
    return parts.scheme, parts.hostname, port


def ensure_allowed_url(url: str, configuration: Configuration | None) -> None:
    ensure_allowed_host(url_host_port(url)[1], configuration)
