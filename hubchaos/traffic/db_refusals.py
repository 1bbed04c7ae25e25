"""What a failed PostgreSQL login means: the SQLSTATE and reason behind libpq's text."""

import re

__all__ = ["classify", "server_message"]

# libpq reports a refused login as text only (no SQLSTATE is exposed before the
# connection exists), so the server's well-known FATAL messages are mapped back
# to their SQLSTATE. Assumes the server's lc_messages is English (the default).
_REFUSALS: tuple[tuple[str, str, str], ...] = (
    (r"sorry, too many clients already", "53300", "too_many_connections"),
    (r"too many connections for role", "53300", "too_many_connections"),
    (r"too many connections for database", "53300", "too_many_connections"),
    (r"remaining connection slots are reserved", "53300", "too_many_connections"),
    (r"password authentication failed", "28P01", "invalid_password"),
    (r"no pg_hba\.conf entry", "28000", "invalid_authorization_specification"),
    (r"role \".*\" does not exist", "28000", "invalid_authorization_specification"),
    (r"is not permitted to log in", "28000", "invalid_authorization_specification"),
    (r"database \".*\" does not exist", "3D000", "invalid_catalog_name"),
    (r"database system is (starting up|shutting down|in recovery)", "57P03", "cannot_connect_now"),
    (r"terminating connection due to administrator command", "57P01", "admin_shutdown"),
)
# Failures below the SQL level: nothing answered as PostgreSQL.
_TRANSPORT: tuple[tuple[str, str], ...] = (
    (r"connection refused", "connection_refused"),
    (r"timeout expired|timed out", "timeout"),
    (r"connection reset", "connection_reset"),
    (r"server closed the connection unexpectedly|could not receive data", "connection_closed"),
    (r"no route to host|network is unreachable", "unreachable"),
    (r"could not translate host name|name or service not known", "dns_failure"),
)


def server_message(text: str) -> str:
    """The server's own words out of a libpq error ('FATAL:  ...')."""
    match = re.search(r"FATAL:\s+(.*)", text)
    line = match.group(1) if match else text.strip().splitlines()[-1] if text.strip() else text
    return " ".join(line.split())


def classify(error: BaseException) -> tuple[str | None, str, str]:
    """(sqlstate or None, reason, message) of a failed login."""
    text = str(error)
    sqlstate = getattr(error, "sqlstate", None)
    for pattern, state, reason in _REFUSALS:
        if re.search(pattern, text, re.IGNORECASE):
            return sqlstate or state, reason, server_message(text)
    if sqlstate:
        return sqlstate, "server_error", server_message(text)
    for pattern, reason in _TRANSPORT:
        if re.search(pattern, text, re.IGNORECASE):
            return None, reason, server_message(text)
    return None, type(error).__name__, server_message(text)
