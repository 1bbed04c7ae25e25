"""The socket half of an endpoint: its place in the epoll set and the bytes queued for it.

A `SocketSide` watches its socket in the reactor, pauses and resumes reading
from it (flow control, see endpoint.py), sends or queues what its peer's
direction delivers (a pipe first, then a deque), sends EOF after the queue,
and closes the socket. Reading and the toxic chain are endpoint.py's; the
connection's lifecycle is link.py's, seen here through `LinkControl`.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
from collections import deque
from typing import Protocol

from hubchaos.proxy import pipes
from hubchaos.proxy.reactor import IN, OUT, Reactor

HIGH_WATER = 1 << 20
LOW_WATER = 256 << 10

# Why reading from a socket is paused (bit mask; reading resumes at 0).
CONNECTING = 1  # the upstream connection is not there yet
PEER_FULL = 2  # the receiver's queue is full
HELD = 4  # toxics hold too many bytes of this direction
DONE = 8  # EOF was read

# A link's state, as its sockets see it.
OPEN, CLOSING, GONE = 0, 1, 2
FAILED = select.EPOLLERR | select.EPOLLHUP
FLAGS = pipes.FLAGS
_LINGER_RESET = struct.pack("ii", 1, 0)


class LinkControl(Protocol):
    """What a socket needs from the connection it belongs to (link.Link)."""

    state: int

    def connected(self, events: int) -> None: ...
    def fail(self, side: SocketSide) -> None: ...
    def close(self) -> None: ...
    def reset(self) -> None: ...
    def abort(self) -> None: ...
    def drained(self, side: SocketSide) -> None: ...


class SocketSide:
    """One socket of a link: watched, paused and resumed, written to, closed."""

    __slots__ = (
        "deferred",
        "ended",
        "fd",
        "held",
        "link",
        "loop",
        "mask",
        "outbuf",
        "outsize",
        "paused",
        "peer",
        "pipe",
        "piped",
        "reactor",
        "reading",
        "shut_pending",
        "sock",
        "stream",
        "writable",
        "writing",
    )

    def __init__(self, link: LinkControl, stream: str, reactor: Reactor) -> None:
        self.link = link
        self.stream = stream  # "upstream" for the client socket, "downstream" for the server's
        self.reactor = reactor
        self.loop = reactor.loop
        self.sock: socket.socket | None = None
        self.fd = -1
        self.mask = 0  # events watched in the reactor
        self.peer: SocketSide = self
        self.held = 0  # bytes of the direction read from here, kept back by its toxics
        self.paused = CONNECTING
        self.reading = False
        self.ended = False  # the direction read from here has ended
        # writer side: bytes on their way into this socket
        self.pipe: tuple[int, int] | None = None
        self.piped = 0
        self.outbuf: deque[bytes | memoryview] | None = None
        self.outsize = 0
        self.writable = False  # connected
        self.writing = False
        self.shut_pending = False
        # Served after the rest of a reactor batch (set by a stamped reader: it
        # loses nothing by waiting, so bytes whose timing is not compensated go first).
        self.deferred = False

    def on_event(self, events: int) -> None:
        """The reactor's readiness report (the endpoint reads and writes)."""
        raise NotImplementedError

    def crashed(self) -> None:
        self.link.abort()

    def _watch(self) -> None:
        self.reactor.watch(self, (IN if self.reading else 0) | (OUT if self.writing else 0))

    def pause(self, reason: int) -> None:
        self.paused |= reason
        if self.reading:
            self.reading = False
            if self.sock is not None:
                self._watch()

    def resume(self, reason: int) -> None:
        self.paused &= ~reason
        if self.paused or self.reading or self.sock is None or self.link.state != OPEN:
            return
        self.reading = True
        self._watch()

    def hold(self, nbytes: int) -> None:
        """Bytes kept back by this direction's toxics."""
        self.held += nbytes
        if self.held > HIGH_WATER:
            self.pause(HELD)

    def release(self, nbytes: int) -> None:
        self.held -= nbytes
        if self.held <= LOW_WATER and self.paused & HELD:
            self.resume(HELD)

    # -- writing ----------------------------------------------------------

    def write(self, data: bytes | memoryview, borrowed: bool = False) -> None:
        """Send `data` or queue it; `borrowed` data lives in a reused buffer, so it is copied."""
        sock = self.sock
        if sock is None or self.shut_pending or self.link.state == GONE:
            return
        if not self.piped and not self.outsize and self.writable:
            try:
                sent = sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self.link.fail(self)
                return
            if sent == len(data):
                return
            data = memoryview(data)[sent:]  # the rest, without copying it
        if borrowed:
            data = bytes(data)
        if self.outbuf is None:
            self.outbuf = deque()
        self.outbuf.append(data)
        self.outsize += len(data)
        if self.outsize > HIGH_WATER:
            self.peer.pause(PEER_FULL)
        if self.writable:
            self._want_write()

    def shutdown_write(self) -> None:
        """Send EOF once every queued byte is out."""
        if self.piped or self.outsize or not self.writable:
            self.shut_pending = True
        else:
            self._shutdown()

    def _shutdown(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_WR)

    def _want_write(self) -> None:
        if not self.writing and self.sock is not None:
            self.writing = True
            self._watch()

    def _on_writable(self) -> None:
        pipe = self.pipe
        if pipe is not None and self.piped:
            try:
                self.piped -= os.splice(pipe[0], self.fd, self.piped, flags=FLAGS)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.link.fail(self)
                return
            if self.piped:
                if self.piped <= pipes.size() // 2:
                    self.peer.resume(PEER_FULL)  # room in the pipe again
                return
            pipes.give_back(pipe)
            self.pipe = None
        outbuf = self.outbuf
        while outbuf:
            data = outbuf[0]
            try:
                sent = self.sock.send(data)  # type: ignore[union-attr]
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.link.fail(self)
                return
            self.outsize -= sent
            if sent < len(data):
                outbuf[0] = data[sent:]
                break
            outbuf.popleft()
        if self.outsize <= LOW_WATER:
            self.peer.resume(PEER_FULL)
        if self.outsize:
            return
        self.writing = False
        self._watch()
        if self.shut_pending:
            self.shut_pending = False
            self._shutdown()
        if self.link.state == CLOSING:
            self.link.drained(self)

    def pending(self) -> bool:
        return self.piped > 0 or self.outsize > 0

    # -- teardown ---------------------------------------------------------

    def close_socket(self, linger_reset: bool = False) -> None:
        sock = self.sock
        if sock is None:
            return
        self.sock = None
        self.reading = self.writing = False
        self.reactor.forget(self)
        if linger_reset:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        sock.close()
        if self.pipe is not None:
            if self.piped:
                pipes.discard(self.pipe)  # bytes nobody will read
            else:
                pipes.give_back(self.pipe)
            self.piped = 0
            self.pipe = None
        self.outbuf = None
        self.outsize = 0
