"""The package's small exception tree; foreign errors are translated into it at the boundary."""

from __future__ import annotations


class LearninghubError(Exception):
    """Base of every error raised on purpose by learninghub."""


class ConfigError(LearninghubError):
    """A setting or command-line value is wrong; the message names what to fix."""


class HTTPProblem(LearninghubError):
    """An error answered to the HTTP client as one JSON line with this status."""

    status: int = 500
    retry_after: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(HTTPProblem):
    status = 400


class NotFound(HTTPProblem):
    status = 404


class Unprocessable(HTTPProblem):
    status = 422


class ServiceUnavailable(HTTPProblem):
    """The database side cannot serve now; the client should retry shortly."""

    status = 503
    retry_after = 1


class PoolExhausted(ServiceUnavailable):
    """No pooled connection within the pool timeout, or the wait queue is full."""


class DatabaseUnavailable(ServiceUnavailable):
    """The database refused or dropped the connection (network or login level)."""


class QueryTimedOut(ServiceUnavailable):
    """A statement ran past the statement timeout and was cancelled."""
