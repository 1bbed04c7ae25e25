"""A small HTTP/1.1 server for the control API, on asyncio protocols.

Only what the Toxiproxy API needs: Content-Length and chunked bodies,
keep-alive, `Expect: 100-continue`, sequential pipelining. Limits keep a bad
client from costing memory or a connection forever: heads over 64 KiB get 431,
bodies over 1 MiB get 413, malformed requests 400, idle sockets are closed;
a request must arrive whole within one deadline from its first byte (a
trickling client gets 408), a client that does not read its answers is not
read from either once UNSENT_LIMIT bytes of them wait (pipelining cannot grow
the server), and connections beyond the cap get 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import cast

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
IDLE_TIMEOUT_S = 75.0
REQUEST_TIMEOUT_S = 15.0  # from a request's first byte to its last, never re-armed per read
UNSENT_LIMIT = 256 * 1024  # answers waiting for a slow reader before we stop reading it
MAX_CONNECTIONS = 512
DISCARD_TIMEOUT_S = 2.0  # after an early error, how long to swallow the unread body

_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HEAD_END = re.compile(rb"\r?\n\r?\n")


@dataclass(slots=True)
class Request:
    method: str
    path: str  # raw (still percent-encoded), without the query string
    headers: dict[str, str]  # lower-case names
    body: bytes = b""


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    body_omitted: bool = False  # answer to HEAD: headers as for GET, no body

    @classmethod
    def json(cls, status: int, payload: object) -> Response:
        return cls(status, json.dumps(payload).encode() + b"\n")


Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Limits:
    """What one control-API server allows its clients."""

    max_connections: int = MAX_CONNECTIONS
    request_timeout_s: float = REQUEST_TIMEOUT_S


DEFAULT_LIMITS = Limits()


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Incomplete(Exception):
    """More bytes are needed."""


class HttpConnection(asyncio.Protocol):
    def __init__(
        self, handler: Handler, connections: set[HttpConnection], limits: Limits = DEFAULT_LIMITS
    ) -> None:
        self.handler = handler
        self.connections = connections
        self.limits = limits
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.busy = False
        self.discarding = False
        self.sent_continue = False
        self.in_request = False  # bytes of a request arrived: its deadline runs
        self.write_paused = False  # the client is not reading its answers
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None

    # -- asyncio protocol -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self.transport.set_write_buffer_limits(high=UNSENT_LIMIT)
        if len(self.connections) >= self.limits.max_connections:
            cap = self.limits.max_connections
            message = f"too many API connections (limit {cap}); retry later"
            self._reject(HttpError(503, message), retry_after_s=1)
            return
        self.connections.add(self)
        self._arm(IDLE_TIMEOUT_S)

    def data_received(self, data: bytes) -> None:
        if self.discarding:
            return
        self.buffer += data
        if self.busy or self.write_paused:
            if len(self.buffer) > MAX_HEAD + MAX_BODY and self.transport is not None:
                self.transport.pause_reading()  # a pipelining client waits its turn
            return
        self._start_request_deadline()
        self._next_request()

    def pause_writing(self) -> None:
        # Over UNSENT_LIMIT of answers wait: read (and so answer) nothing more
        # until the client reads; one that never does is dropped at the deadline.
        self.write_paused = True
        if self.transport is not None:
            self.transport.pause_reading()
        self._arm(self.limits.request_timeout_s)

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.busy or self.discarding or self.transport is None:
            return
        self.transport.resume_reading()
        self._after_response()

    def eof_received(self) -> bool:
        return self.busy and not self.discarding  # finish a response in progress, then close

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self.transport = None
        if self.timer is not None:
            self.timer.cancel()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # -- requests ---------------------------------------------------------

    def _arm(self, seconds: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(seconds, self._expire)

    def _start_request_deadline(self) -> None:
        if not self.in_request:  # once per request: a trickling client gains nothing
            self.in_request = True
            self._arm(self.limits.request_timeout_s)

    def _expire(self) -> None:
        self.timer = None
        if self.write_paused and self.transport is not None:
            self.transport.abort()  # close() would wait forever to flush to a non-reader
        elif self.discarding or (not self.busy and not self.in_request):
            self.close()
        elif not self.busy:  # a request still incomplete at its deadline
            deadline = self.limits.request_timeout_s
            self._reject(HttpError(408, f"request not complete within {deadline:g} s"))

    def _next_request(self) -> None:
        if self.transport is None or self.transport.is_closing() or not self.buffer:
            return
        try:
            request, used, keep_alive = self._parse()
        except _Incomplete:
            return
        except HttpError as exc:
            self._reject(exc)
            return
        del self.buffer[:used]
        self.sent_continue = False
        self.in_request = False
        self.busy = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.task = asyncio.get_running_loop().create_task(self._serve(request, keep_alive))

    async def _serve(self, request: Request, keep_alive: bool) -> None:
        try:
            response = await self.handler(request)
        except Exception:  # a bug must cost one 500, not the server
            log.exception("error handling %s %s", request.method, request.path)
            response = _error_response(500, "internal error")
        self.busy = False
        if request.method == "HEAD":
            response.body_omitted = True
        self._send(response, keep_alive)
        if keep_alive and self.transport is not None and not self.write_paused:
            self.transport.resume_reading()
            self._after_response()

    def _after_response(self) -> None:
        """Wait for the next request, or start on one already (partly) read."""
        if self.buffer:
            self._start_request_deadline()
            self._next_request()
        else:
            self._arm(IDLE_TIMEOUT_S)

    def _reject(self, exc: HttpError, retry_after_s: int | None = None) -> None:
        """Answer a request we won't read, then swallow what the client still sends.

        Closing with unread bytes would send a RST that can destroy the answer
        before the client reads it (typical for a 413 on a large upload).
        """
        transport = self.transport
        response = _error_response(exc.status, exc.message)
        if retry_after_s is not None:
            response.headers["Retry-After"] = str(retry_after_s)
        self._send(response, keep_alive=True, closing=True)
        self.buffer.clear()
        self.discarding = True
        if transport is not None and transport.can_write_eof():
            transport.write_eof()
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(DISCARD_TIMEOUT_S, self.close)

    def _send(self, response: Response, keep_alive: bool, closing: bool = False) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        status = response.status
        reason = _reason(status)
        lines = [f"HTTP/1.1 {status} {reason}"]
        if status not in (204, 304):
            lines.append(f"Content-Type: {response.content_type}")
            lines.append(f"Content-Length: {len(response.body)}")
        lines.extend(f"{name}: {value}" for name, value in response.headers.items())
        if closing or not keep_alive:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = b"" if status in (204, 304) or response.body_omitted else response.body
        transport.write(head + body)
        if not keep_alive:
            transport.close()

    # -- parsing ----------------------------------------------------------

    def _parse(self) -> tuple[Request, int, bool]:
        buffer = self.buffer
        match = _HEAD_END.search(buffer, 0, MAX_HEAD + 4)
        if match is None:
            if len(buffer) > MAX_HEAD:
                raise HttpError(431, "request head larger than 64 KiB")
            raise _Incomplete
        head = bytes(buffer[: match.start()])
        body_start = match.end()
        lines = head.replace(b"\r\n", b"\n").split(b"\n")
        method, path, version = _request_line(lines[0])
        headers = _headers(lines[1:])
        keep_alive = _keep_alive(version, headers)
        body, end = self._body(headers, body_start)
        return Request(method, path, headers, body), end, keep_alive

    def _body(self, headers: dict[str, str], start: int) -> tuple[bytes, int]:
        encoding = headers.get("transfer-encoding")
        length_text = headers.get("content-length")
        if encoding is not None:
            if length_text is not None:
                raise HttpError(400, "both Content-Length and Transfer-Encoding given")
            if encoding.strip().lower() != "chunked":
                raise HttpError(501, f"unsupported transfer encoding {encoding!r}")
            self._continue(headers)
            return _chunked(self.buffer, start)
        if length_text is None:
            return b"", start
        if not length_text.strip().isdigit():
            raise HttpError(400, f"invalid Content-Length {length_text!r}")
        length = int(length_text)
        if length > MAX_BODY:
            raise HttpError(413, f"request body of {length} bytes is over the 1 MiB limit")
        if len(self.buffer) - start < length:
            self._continue(headers)
            raise _Incomplete
        return bytes(self.buffer[start : start + length]), start + length

    def _continue(self, headers: dict[str, str]) -> None:
        expect = headers.get("expect", "").lower()
        if expect == "100-continue" and not self.sent_continue and self.transport is not None:
            self.sent_continue = True
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")


def _request_line(line: bytes) -> tuple[str, str, str]:
    parts = line.split(b" ")
    if len(parts) != 3 or not _TOKEN.match(parts[0]):
        raise HttpError(400, "malformed request line")
    method, target, version = parts
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise HttpError(505 if version.startswith(b"HTTP/") else 400, "unsupported HTTP version")
    try:
        text = target.decode("ascii")
    except UnicodeDecodeError:
        raise HttpError(400, "request target is not ASCII") from None
    if text.startswith(("http://", "https://")):
        slash = text.find("/", text.index("//") + 2)
        text = text[slash:] if slash >= 0 else "/"
    if not text.startswith("/") or any(ord(c) <= 32 or ord(c) == 127 for c in text):
        raise HttpError(400, "malformed request target")
    return method.decode("ascii"), text.partition("?")[0], version.decode("ascii")


def _headers(lines: list[bytes]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.match(name):
            raise HttpError(400, "malformed header line")
        key = name.decode("ascii").lower()
        text = value.strip(b" \t").decode("latin-1")
        if key in ("content-length", "transfer-encoding") and key in headers:
            if headers[key] != text:
                raise HttpError(400, f"conflicting {key} headers")
            continue
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _keep_alive(version: str, headers: dict[str, str]) -> bool:
    tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
    if version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


def _chunked(buffer: bytearray, start: int) -> tuple[bytes, int]:
    body = bytearray()
    position = start
    while True:
        line_end = buffer.find(b"\n", position)
        if line_end < 0:
            if len(buffer) - position > 1024:
                raise HttpError(400, "malformed chunk size line")
            raise _Incomplete
        size_text = bytes(buffer[position:line_end]).split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise HttpError(400, "malformed chunk size") from None
        if size < 0 or len(body) + size > MAX_BODY:
            raise HttpError(413, "request body is over the 1 MiB limit")
        position = line_end + 1
        if size == 0:
            while True:  # trailers, up to the empty line
                line_end = buffer.find(b"\n", position)
                if line_end < 0:
                    raise _Incomplete
                line = bytes(buffer[position:line_end]).strip()
                position = line_end + 1
                if not line:
                    return bytes(body), position
        if len(buffer) < position + size + 1:
            raise _Incomplete
        body += buffer[position : position + size]
        position += size
        if buffer[position : position + 2] == b"\r\n":
            position += 2
        elif buffer[position : position + 1] == b"\n":
            position += 1
        elif len(buffer) < position + 2:
            raise _Incomplete
        else:
            raise HttpError(400, "malformed chunk")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _error_response(status: int, message: str) -> Response:
    return Response.json(status, {"error": message, "status": status})
