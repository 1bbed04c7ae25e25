"""The few plain-HTTP calls the ledger makes to a Toxiproxy API, with the standard library.

The Toxiproxy API is plain HTTP (the actions refuse anything else), and these
calls sit on every run's critical path (the safety baseline) and in the
watchdog, which should start fast: an httpx call without a client builds an SSL
context each time, which costs tens to hundreds of milliseconds on a busy host.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

__all__ = ["HttpError", "request"]


class HttpError(Exception):
    """The server could not be reached or did not answer in time."""


def request(
    method: str, url: str, body: dict[str, Any] | None = None, timeout: float = 5.0
) -> tuple[int, bytes]:
    """(status, body) of one request; raises HttpError on transport failures."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise HttpError(f"{url}: only http://HOST:PORT URLs are supported")
    path = parts.path or "/"
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if payload is not None else {}
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise HttpError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()
