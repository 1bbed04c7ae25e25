"""Errors the Toxiproxy API answers with, as `{"error": message, "status": code}`.

Messages of the upstream-defined cases are kept word for word, because clients
(toxiproxy-python, chaostoolkit-toxiproxy, toxiproxy-cli) match on the status
code and people grep for the text.
"""

from __future__ import annotations


class StartupError(Exception):
    """The server cannot start (unreadable --config, API port in use): one line for the user.

    The proxy imports nothing of the runner; its command turns this into the
    CLI's one-line error with exit status 2 (proxy/cli.py).
    """


class ApiError(Exception):
    """An error with the HTTP status it is reported with."""

    status = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def body(self) -> dict[str, object]:
        return {"error": self.message, "status": self.status}


class BadRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class InvalidAttribute(BadRequest):
    """A field or toxic attribute with a wrong name, type or range; names the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"invalid {field}: {problem}")
        self.field = field


def proxy_not_found() -> NotFound:
    return NotFound("proxy not found")


def toxic_not_found() -> NotFound:
    return NotFound("toxic not found")


def proxy_exists() -> Conflict:
    return Conflict("proxy already exists")


def toxic_exists() -> Conflict:
    return Conflict("toxic already exists")


def invalid_toxic_type() -> BadRequest:
    return BadRequest("invalid toxic type")


def invalid_stream() -> BadRequest:
    return BadRequest("stream was invalid, can be either upstream or downstream")


def bad_body(detail: str) -> BadRequest:
    return BadRequest(f"bad request body: {detail}")


def missing_field(field: str) -> BadRequest:
    return BadRequest(f"missing required field: {field}")
