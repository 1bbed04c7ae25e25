"""Helpers shared by hubchaos probes: the observer's PostgreSQL connection.

Observers log in as the superuser of `hubchaos_db_dsn` on purpose: its
reserved slots let it watch a server that refuses everyone else.
"""

import math
from typing import Any

import psycopg

from hubchaos.activity.addresses import describe_dsn
from hubchaos.activity.errors import failed

OBSERVER_APPLICATION = "hubchaos-probe"
STATEMENT_TIMEOUT_MS = 5000


def observer_connect(dsn: str, connect_timeout: float) -> psycopg.Connection[Any]:
    """An autocommit observer connection, or ActivityFailed naming the target.

    libpq waits at least 2 s for a connection, whatever is asked.
    """
    try:
        return psycopg.connect(
            dsn,
            autocommit=True,
            connect_timeout=max(2, math.ceil(connect_timeout)),
            application_name=OBSERVER_APPLICATION,
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        )
    except psycopg.Error as exc:
        raise failed(f"PostgreSQL observer {describe_dsn(dsn)}", exc) from None


def observe(dsn: str, connect_timeout: float, sql: str) -> list[tuple[Any, ...]]:
    """Run one read-only query on a fresh observer connection."""
    with observer_connect(dsn, connect_timeout) as conn:
        try:
            return conn.execute(sql).fetchall()
        except psycopg.Error as exc:
            raise failed(f"PostgreSQL observer {describe_dsn(dsn)}", exc) from None
