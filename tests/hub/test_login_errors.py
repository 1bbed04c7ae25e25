"""The SQLSTATE a failed login is counted under: server refusals versus no answer at all."""

from __future__ import annotations

import psycopg
import pytest

from learninghub.login_errors import UNREACHABLE, login_sqlstate
from tests.hub.conftest import HubDatabase


@pytest.mark.parametrize(
    ("message", "sqlstate"),
    [
        ('connection failed: FATAL:  too many connections for role "learninghub"', "53300"),
        ("connection failed: FATAL:  sorry, too many clients already", "53300"),
        (
            "FATAL:  remaining connection slots are reserved for non-replication superuser"
            " connections",
            "53300",
        ),
        ('FATAL:  password authentication failed for user "learninghub"', "28P01"),
        ("FATAL:  the database system is starting up", "57P03"),
        ('connection to server at "127.0.0.1", port 1 failed: Connection refused', UNREACHABLE),
        ("connection timeout expired", UNREACHABLE),
    ],
)
def test_known_server_messages_map_to_their_sqlstate(message: str, sqlstate: str) -> None:
    assert login_sqlstate(psycopg.OperationalError(message)) == sqlstate


def test_a_real_role_limit_refusal_is_53300(hub_db: HubDatabase) -> None:
    with psycopg.connect(hub_db.admin_dsn, autocommit=True) as admin:
        admin.execute("ALTER ROLE learninghub CONNECTION LIMIT 0")
        try:
            with pytest.raises(psycopg.OperationalError) as refused:
                psycopg.connect(hub_db.app_dsn, connect_timeout=5).close()
        finally:
            admin.execute("ALTER ROLE learninghub CONNECTION LIMIT -1")
    assert login_sqlstate(refused.value) == "53300"
