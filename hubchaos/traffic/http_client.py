"""A lean HTTP/1.1 keep-alive client connection for load generation.

A general-purpose client such as httpx spends far more CPU per request than
a spike can afford next to `wrk` (benchmarks/flood.py), so this speaks just
enough HTTP/1.1 over an asyncio Protocol: one request at a time per connection, Content-Length,
chunked and read-until-close bodies, keep-alive. It reports the status, whether
a Retry-After header came back and whether the connection can be reused;
bodies are discarded.
"""

import asyncio
import json
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

_MAX_HEAD = 64 * 1024


class ProtocolError(Exception):
    """The server's answer was not HTTP/1.x as we understand it."""


class ConnectionClosed(ConnectionError):
    """The server closed the connection before a full response arrived."""

    def __init__(self, received_anything: bool) -> None:
        super().__init__("server closed the connection before responding")
        self.received_anything = received_anything


class Response(NamedTuple):  # a tuple: cheaper to build than a dataclass, per response
    status: int
    retry_after: bool
    keep_alive: bool


@dataclass(frozen=True)
class Request:
    """One pre-encoded request of the route mix."""

    method: str
    path: str
    payload: bytes
    head_only: bool


def encode_request(
    method: str, path: str, host_header: str, body: Any | None, headers: dict[str, str]
) -> Request:
    method = method.upper()
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host_header}",
        "User-Agent: hubchaos-spike",
        "Accept: */*",
    ]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    data = b""
    if body is not None:
        data = json.dumps(body, separators=(",", ":")).encode()
        lines.append("Content-Type: application/json")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(data)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return Request(method, path, head + data, method == "HEAD")


class HttpConnection(asyncio.Protocol):
    """A client connection that carries one request/response at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        # loop.time() by which the current response must be complete; 0 when idle
        self.deadline = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[Response] | None = None
        self._received = False
        self._head_only = False
        self._status: int | None = None
        self._retry_after = False
        self._keep_alive = True
        self._mode = ""  # "length", "chunked" or "close" once the head is parsed
        self._remaining = 0
        self._chunk_done = False

    # --- asyncio callbacks -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but behave as one
        self.transport = cast(asyncio.Transport, transport)
        self._loop = asyncio.get_running_loop()

    def data_received(self, data: bytes) -> None:
        self._received = True
        self._buffer += data
        if self._waiter is None or self._waiter.done():
            self._buffer.clear()  # nothing asked: stray bytes
            return
        try:
            self._parse()
        except (ProtocolError, ValueError) as exc:
            self._fail(ProtocolError(str(exc)))
            self.abort()

    def eof_received(self) -> bool:
        return False  # let the transport close; connection_lost settles the waiter

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            if self._mode == "close" and self._status is not None:
                self._finish()
            else:
                self._fail(ConnectionClosed(self._received))

    # --- used by the load driver ----------------------------------------------------------
    def send(self, request: Request, timeout: float) -> "asyncio.Future[Response]":
        """Write `request`; the future resolves with its response.

        The load driver's watchdog calls `expire` once `deadline` has passed.
        """
        assert self.transport is not None and self._loop is not None
        if self.transport.is_closing():
            # the peer went away between two requests (a killed replica, a reset):
            # uvloop would raise RuntimeError on write; this is a closed connection
            raise ConnectionClosed(received_anything=False)
        self._waiter = self._loop.create_future()
        self.deadline = self._loop.time() + timeout
        self._buffer.clear()
        self._received = False
        self._head_only = request.head_only
        self._status = None
        self._retry_after = False
        self._keep_alive = True
        self._mode = ""
        self._remaining = 0
        self._chunk_done = False
        self.transport.write(request.payload)
        return self._waiter

    def expire(self) -> None:
        """Give up on the response (its deadline passed)."""
        self._fail(TimeoutError("no response within the timeout"))
        self.abort()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # --- parsing ------------------------------------------------------------------------
    def _fail(self, error: BaseException) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)

    def _finish(self) -> None:
        assert self._status is not None and self._waiter is not None
        self.deadline = 0.0
        if not self._waiter.done():
            self._waiter.set_result(Response(self._status, self._retry_after, self._keep_alive))

    def _parse(self) -> None:
        while self._status is None:
            if not self._parse_head():
                return
        if self._mode == "length":
            take = min(self._remaining, len(self._buffer))
            del self._buffer[:take]
            self._remaining -= take
            if self._remaining == 0:
                self._finish()
        elif self._mode == "chunked":
            if self._parse_chunks():
                self._finish()
        elif self._mode == "close":
            self._buffer.clear()
        else:
            self._finish()

    def _parse_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > _MAX_HEAD:
                raise ProtocolError("response head too large")
            return False
        head = bytes(self._buffer[: end + 2])  # keep the last header's CRLF
        del self._buffer[: end + 4]
        if not head.startswith(b"HTTP/1."):
            raise ProtocolError(f"not an HTTP/1.x status line: {head[:60]!r}")
        status = int(head[9:12])
        if 100 <= status < 200:
            return True  # interim response: the real one follows
        # Header names are case-insensitive: search the lower-cased head once
        # instead of splitting it into lines (this runs for every response).
        lower = head.lower()
        length = _header(lower, b"\r\ncontent-length:")
        chunked = b"chunked" in (_header(lower, b"\r\ntransfer-encoding:") or b"")
        connection = _header(lower, b"\r\nconnection:") or b""
        self._retry_after = _header(lower, b"\r\nretry-after:") is not None
        if head.startswith(b"HTTP/1.0"):
            self._keep_alive = b"keep-alive" in connection
        else:
            self._keep_alive = b"close" not in connection
        self._status = status
        if self._head_only or status in (204, 304):
            self._mode = "none"
        elif chunked:
            self._mode = "chunked"
        elif length is not None:
            self._mode, self._remaining = "length", int(length)
        else:
            self._mode, self._keep_alive = "close", False
        return True

    def _parse_chunks(self) -> bool:
        """Consume chunked body bytes; True once the last chunk and trailers are in."""
        buf = self._buffer
        while True:
            if self._chunk_done:  # after the 0-size chunk: optional trailers, then CRLF
                if buf.startswith(b"\r\n"):
                    del buf[:2]
                    return True
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    return False
                del buf[: end + 4]
                return True
            if self._remaining > 0:
                take = min(self._remaining, len(buf))
                del buf[:take]
                self._remaining -= take
                if self._remaining > 0:
                    return False
                continue
            line_end = buf.find(b"\r\n")
            if line_end < 0:
                return False
            size = int(bytes(buf[:line_end]).split(b";")[0].strip() or b"x", 16)
            del buf[: line_end + 2]
            if size == 0:
                self._chunk_done = True
            else:
                self._remaining = size + 2  # the data and its trailing CRLF


def _header(lower_head: bytes, marker: bytes) -> bytes | None:
    """The value of the header `marker` ("\\r\\nname:") in a lower-cased head."""
    start = lower_head.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return lower_head[start : lower_head.index(b"\r\n", start)].strip()
