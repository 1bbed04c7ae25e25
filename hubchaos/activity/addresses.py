"""What a libpq DSN or an http(s) URL points at, and how to name it in a message
without its password."""

from urllib.parse import urlsplit

from chaoslib.exceptions import ActivityFailed
from psycopg.conninfo import conninfo_to_dict

from hubchaos.reach.libpq import InvalidDsn, effective_hosts

__all__ = ["describe_dsn", "dsn_hosts", "dsn_port", "url_host_port"]


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
