"""Failed database logins, counted by SQLSTATE: the evidence that tells causes apart.

A login refused with SQLSTATE 53300 ("too many connections for role", "sorry,
too many clients already") means PostgreSQL is up and its connection budget is
spent; a failure with no server answer (refused, reset, timed out) means it is
unreachable. libpq reports a refused login as text only (the SQLSTATE field
exists once a connection does), so the server's well-known FATAL messages are
mapped back to their SQLSTATE here. Assumes lc_messages is English (the default).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import psycopg

# No SQL answer at all: libpq's client-side "unable to establish connection".
UNREACHABLE = "08001"
TOO_MANY_CONNECTIONS = "53300"

_SERVER_REFUSALS: tuple[tuple[str, str], ...] = (
    (r"too many connections for role", TOO_MANY_CONNECTIONS),
    (r"sorry, too many clients already", TOO_MANY_CONNECTIONS),
    (r"too many connections for database", TOO_MANY_CONNECTIONS),
    (r"remaining connection slots are reserved", TOO_MANY_CONNECTIONS),
    (r"password authentication failed", "28P01"),
    (r"no pg_hba\.conf entry|is not permitted to log in|role \".*\" does not exist", "28000"),
    (r"database \".*\" does not exist", "3D000"),
    (r"database system is (starting up|shutting down|in recovery)", "57P03"),
    (r"terminating connection due to administrator command", "57P01"),
)

LoginFailed = Callable[[BaseException], None]


def login_sqlstate(error: BaseException) -> str:
    """SQLSTATE of a failed login; 08001 when nothing answered as PostgreSQL."""
    known = getattr(error, "sqlstate", None)
    if known:
        return str(known)
    text = str(error)
    for pattern, state in _SERVER_REFUSALS:
        if re.search(pattern, text, re.IGNORECASE):
            return state
    return UNREACHABLE


def counting_connection_class(on_failure: LoginFailed) -> type[psycopg.AsyncConnection[Any]]:
    """An AsyncConnection whose failed `connect` is reported before it is raised.

    Given to the pool as its connection class, so every login the pool makes
    (growth, reconnection) is counted without touching psycopg_pool's internals.
    """

    class CountedConnection(psycopg.AsyncConnection[Any]):
        @classmethod
        async def connect(cls, *args: Any, **kwargs: Any) -> Any:
            try:
                return await super().connect(*args, **kwargs)
            except (psycopg.Error, OSError, TimeoutError) as exc:
                on_failure(exc)
                raise

    return CountedConnection
