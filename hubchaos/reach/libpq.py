"""Where a libpq DSN really connects: the DSN, then its service, then PG* variables.

A DSN without a host is not "localhost" to libpq: PGHOST, PGHOSTADDR, a
`service=` (or PGSERVICE) entry of a service file (PGSERVICEFILE,
~/.pg_service.conf, PGSYSCONFDIR/pg_service.conf) all supply one. Rather than
re-implement those rules, this asks the libpq psycopg itself uses:
`PQconninfoParse` for what the DSN says and `PQconndefaults` for what the
service file and the environment add, with the DSN's own `service=` put in
PGSERVICE for the time of the question. Nothing is connected.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import pq
from psycopg.conninfo import conninfo_to_dict

__all__ = ["InvalidDsn", "effective_hosts"]

# PGSERVICE is process-wide: one question at a time.
_environ_lock = threading.Lock()


class InvalidDsn(ValueError):
    """The DSN cannot be parsed (libpq's message, without the password)."""


def _split(value: object) -> list[str]:
    return [item.strip() for item in str(value or "").split(",") if item.strip()]


@contextmanager
def _service(name: str | None) -> Iterator[None]:
    """PGSERVICE set to the DSN's own service (which wins over the variable) meanwhile."""
    if name is None:
        yield
        return
    previous = os.environ.get("PGSERVICE")
    os.environ["PGSERVICE"] = name
    try:
        yield
    finally:
        if previous is None:
            del os.environ["PGSERVICE"]
        else:
            os.environ["PGSERVICE"] = previous


def _defaults(service: str | None) -> dict[str, str]:
    with _environ_lock, _service(service):
        options = pq.Conninfo.get_defaults()
    return {
        option.keyword.decode(): option.val.decode() for option in options if option.val is not None
    }


def effective_hosts(dsn: str) -> list[str]:
    """Every host and hostaddr libpq would connect to for `dsn` (empty: its Unix socket)."""
    try:
        given = {key: str(value) for key, value in conninfo_to_dict(dsn).items()}
    except Exception as exc:  # psycopg raises ProgrammingError on a malformed DSN
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidDsn(text) from None
    defaults = _defaults(given.get("service"))
    hosts: list[str] = []
    for key in ("host", "hostaddr"):
        value = given.get(key) or defaults.get(key)
        hosts += _split(value)
    return hosts
