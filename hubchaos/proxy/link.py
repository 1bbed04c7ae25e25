"""One proxied connection: client socket <-> upstream socket, each direction with its toxics.

Sockets are plain non-blocking sockets in the proxy's epoll set (reactor.py),
not asyncio transports: a direction without toxics moves bytes with
splice(2) (socket -> pipe -> socket, never copied into Python), and
connecting upstream is one non-blocking connect() per client, no task.

Small reads of a toxic-free direction are copied through one shared buffer
(recv_into() + send(): no pipe, no allocation); once a read fills it, the
direction counts as bulk and splices from then on.

A direction with toxics reads chunks with recv() and pushes them through a
chain of stages (see toxics/base.py) ending in the source endpoint's
`push`/`finish`, which queue bytes on the receiving endpoint. The chain is
rewired in place when toxics change; bytes already queued or sitting in a
pipe keep their place, so nothing is reordered. When a stage wants it
(latency), the direction reads with recvmsg() and kernel receive timestamps,
so a delay counts from the bytes' arrival, not from a late read.

Flow control: a sender stops being read while the receiver's queue is over
HIGH_WATER (or its pipe is not empty), and while the toxics of its direction
hold more than HIGH_WATER bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import select
import socket
import struct
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from hubchaos.proxy import pipes
from hubchaos.proxy.reactor import IN, OUT, READ_EVENTS, WRITE_EVENTS, Reactor
from hubchaos.proxy.toxics.base import CLOSE, EOF, Downstream, Stage

if TYPE_CHECKING:
    from hubchaos.proxy.proxy import Proxy
    from hubchaos.proxy.toxic import Toxic

CONNECT_TIMEOUT_S = 10.0
CLOSE_GRACE_S = 5.0  # a closing socket that can't flush its queue by then is dropped
HIGH_WATER = 1 << 20
LOW_WATER = 256 << 10
# recv() allocates this much per call: past glibc's mmap threshold (128 KiB)
# every read would mmap and munmap, costing more than the read itself.
READ_SIZE = 64 * 1024
BULK_ROUNDS = 16  # reads per readiness event while a flow is bulk (saves loop rounds)
BULK_MIN = 64 * 1024  # a read this large suggests more is already waiting

# Why reading from a socket is paused (bit mask; reading resumes at 0).
_CONNECTING = 1  # the upstream connection is not there yet
_PEER_FULL = 2  # the receiver's queue is full
_HELD = 4  # toxics hold too many bytes of this direction
_DONE = 8  # EOF was read

_LINGER_RESET = struct.pack("ii", 1, 0)
_OPEN, _CLOSING, _GONE = 0, 1, 2
_SPLICE = pipes.AVAILABLE
_FAILED = select.EPOLLERR | select.EPOLLHUP
_FLAGS = pipes.FLAGS
# Kernel receive timestamps (CLOCK_REALTIME), so a delay counts from when bytes
# arrived, not from when a busy proxy got round to reading them.
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_TIMESPEC = struct.Struct("qq")
_STAMP_SPACE = socket.CMSG_SPACE(_TIMESPEC.size)
_MAX_STAMP_AGE_S = 60.0
# Read buffer shared by every toxic-free direction (one thread): what can't be
# sent at once is copied out before the next read reuses it.
_SCRATCH = memoryview(bytearray(READ_SIZE))


class Endpoint:
    """One socket of a link.

    As a reader it is the source of one direction: it owns that direction's
    toxic stages and is the sink at the end of their chain. As a writer it
    holds the bytes queued for its socket (a pipe first, then a deque).
    """

    __slots__ = (
        "arrived",
        "bulk",
        "deferred",
        "ended",
        "fd",
        "head",
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
        "received",
        "sent",
        "shut_pending",
        "sock",
        "stages",
        "stamping",
        "stream",
        "writable",
        "writing",
    )

    def __init__(self, link: Link, stream: str, reactor: Reactor) -> None:
        self.link = link
        self.stream = stream  # "upstream" for the client socket, "downstream" for the server's
        self.reactor = reactor
        self.loop = reactor.loop
        self.sock: socket.socket | None = None
        self.fd = -1
        self.mask = 0  # events watched in the reactor
        self.peer: Endpoint = self
        # reader side: the direction out of this socket
        self.stages: list[list[object]] = []  # [toxic, stage or None] in chain order
        self.head: Stage | None = None
        self.received = 0
        self.sent = 0
        self.held = 0
        self.paused = _CONNECTING
        self.reading = False
        self.ended = False
        self.bulk = False  # a read filled the shared buffer: splice this direction
        self.stamping = False  # a stage wants kernel arrival times (SO_TIMESTAMPNS)
        # Served after the rest of a reactor batch: a stamped read loses nothing by
        # waiting, so bytes whose timing is not compensated go first.
        self.deferred = False
        self.arrived = 0.0  # loop time the chunk being pushed arrived; 0.0 outside a read
        # writer side: bytes on their way into this socket
        self.pipe: tuple[int, int] | None = None
        self.piped = 0
        self.outbuf: deque[bytes | memoryview] | None = None
        self.outsize = 0
        self.writable = False  # connected
        self.writing = False
        self.shut_pending = False

    def on_event(self, events: int) -> None:
        if events & READ_EVENTS and self.reading:
            self._on_readable()
        if events & WRITE_EVENTS and self.writing and self.sock is not None:
            if self.writable:
                self._on_writable()
            else:
                self.link.connected(events)

    def crashed(self) -> None:
        self.link.abort()

    def _watch(self) -> None:
        self.reactor.watch(self, (IN if self.reading else 0) | (OUT if self.writing else 0))

    # -- reading ----------------------------------------------------------

    def _on_readable(self) -> None:
        peer = self.peer
        if self.head is None and peer.writable and not peer.outsize:
            if _SPLICE and (self.bulk or peer.piped):
                self._splice_through(peer)
            else:
                self._copy_through(peer)
            return
        if self.stamping and self.head is not None:
            self._read_stamped()
            return
        for _ in range(BULK_ROUNDS):
            try:
                data = self.sock.recv(READ_SIZE)  # type: ignore[union-attr]
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.link.fail(self)
                return
            if not data:
                self._read_eof()
                return
            self.received += len(data)
            head = self.head
            if head is None:
                self.push(data)
            else:
                head.push(data)
            if len(data) < READ_SIZE or not self.reading:
                return  # not a bulk flow, or paused by what we just pushed

    def _read_stamped(self) -> None:
        """As the recv() loop above, but tell the stages when each chunk arrived."""
        loop = self.loop
        for _ in range(BULK_ROUNDS):
            try:
                data, ancillary, _, _ = self.sock.recvmsg(READ_SIZE, _STAMP_SPACE)  # type: ignore[union-attr]
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.link.fail(self)
                return
            if not data:
                self._read_eof()
                return
            self.received += len(data)
            now = loop.time()
            arrived = now
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
                    seconds, nanoseconds = _TIMESPEC.unpack_from(payload)
                    age = time.time() - (seconds + nanoseconds * 1e-9)
                    # Outside that range the stamp is not trustworthy (a clock step,
                    # or a kernel reporting another clock): count from now.
                    if 0.0 < age < _MAX_STAMP_AGE_S:
                        arrived = now - age
            head = self.head
            self.arrived = arrived
            try:
                if head is None:
                    self.push(data)
                else:
                    head.push(data)
            finally:
                self.arrived = 0.0
            if len(data) < READ_SIZE or not self.reading:
                return

    def _copy_through(self, peer: Endpoint) -> None:
        """One read into the shared buffer, sent straight on: cheapest for small messages."""
        try:
            count = self.sock.recv_into(_SCRATCH)  # type: ignore[union-attr]
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.link.fail(self)
            return
        if count == 0:
            self._read_eof()
            return
        self.received += count
        if count == READ_SIZE:
            self.bulk = True  # more is most likely waiting: splice from now on
        self.push(_SCRATCH[:count], borrowed=True)

    def _splice_through(self, peer: Endpoint) -> None:
        """Move bytes socket -> pipe -> peer socket; the pipe buffers what the peer can't take."""
        pipe = peer.pipe
        if pipe is None:
            pipe = peer.pipe = pipes.take()
        capacity = pipes.size()
        for _ in range(BULK_ROUNDS):
            try:
                count = os.splice(self.fd, pipe[1], capacity - peer.piped, flags=_FLAGS)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.link.fail(self)
                break
            if count == 0:
                self._read_eof()
                break
            self.received += count
            self.sent += count
            peer.piped += count
            if not peer.writing:  # else the peer is known to be full: wait for it
                try:
                    peer.piped -= os.splice(pipe[0], peer.fd, peer.piped, flags=_FLAGS)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    self.link.fail(peer)
                    break
            if peer.piped:
                peer._want_write()
                if peer.piped >= capacity:
                    self.pause(_PEER_FULL)
                    break
            if count < BULK_MIN or not self.reading:
                break
        if peer.pipe is pipe and not peer.piped:
            peer.pipe = None
            pipes.give_back(pipe)

    def _read_eof(self) -> None:
        self.paused |= _DONE
        self.reading = False
        (self.head or self).finish(EOF)
        # Stop watching unless finishing closed the socket (which leaves the epoll
        # set by itself): the last EOF of a link costs no epoll_ctl.
        if self.sock is not None:
            self._watch()

    def pause(self, reason: int) -> None:
        self.paused |= reason
        if self.reading:
            self.reading = False
            if self.sock is not None:
                self._watch()

    def resume(self, reason: int) -> None:
        self.paused &= ~reason
        if self.paused or self.reading or self.sock is None or self.link.state != _OPEN:
            return
        self.reading = True
        self._watch()

    def hold(self, nbytes: int) -> None:
        """Bytes kept back by this direction's toxics."""
        self.held += nbytes
        if self.held > HIGH_WATER:
            self.pause(_HELD)

    def release(self, nbytes: int) -> None:
        self.held -= nbytes
        if self.held <= LOW_WATER and self.paused & _HELD:
            self.resume(_HELD)

    # -- sink: the end of this direction's chain --------------------------

    def push(self, data: bytes | memoryview, borrowed: bool = False) -> None:
        if not self.ended:
            self.sent += len(data)
            self.peer.write(data, borrowed)

    def finish(self, end: int) -> None:
        if self.ended:
            return
        self.ended = True
        if end == EOF:
            if self.peer.ended:
                self.link.close()  # both directions done: close() sends the FINs
            else:
                self.peer.shutdown_write()
        elif end == CLOSE:
            self.link.close()
        else:
            self.link.reset()

    # -- writing ----------------------------------------------------------

    def write(self, data: bytes | memoryview, borrowed: bool = False) -> None:
        """Send `data` or queue it; `borrowed` data lives in a reused buffer, so it is copied."""
        sock = self.sock
        if sock is None or self.shut_pending or self.link.state == _GONE:
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
            self.peer.pause(_PEER_FULL)
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
                self.piped -= os.splice(pipe[0], self.fd, self.piped, flags=_FLAGS)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.link.fail(self)
                return
            if self.piped:
                if self.piped <= pipes.size() // 2:
                    self.peer.resume(_PEER_FULL)  # room in the pipe again
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
            self.peer.resume(_PEER_FULL)
        if self.outsize:
            return
        self.writing = False
        self._watch()
        if self.shut_pending:
            self.shut_pending = False
            self._shutdown()
        if self.link.state == _CLOSING:
            self.link.drained(self)

    def pending(self) -> bool:
        return self.piped > 0 or self.outsize > 0

    # -- toxics -----------------------------------------------------------

    def add_toxic(self, toxic: Toxic) -> None:
        stage = toxic.stage_for(self)
        self.stages.append([toxic, stage])
        if stage is not None:
            self._wire()

    def remove_toxic(self, toxic: Toxic) -> None:
        for index, (known, stage) in enumerate(self.stages):
            if known is toxic:
                del self.stages[index]
                self._wire()
                if isinstance(stage, Stage):
                    # Its `next` still leads on: held bytes go out ahead of any new
                    # ones. This may end the link (timeout), which clears `stages`.
                    stage.detach()
                return

    def update_toxic(self, toxic: Toxic, redraw: bool) -> None:
        for entry in self.stages:
            if entry[0] is not toxic:
                continue
            stage = entry[1]
            active = toxic.draw() if redraw else isinstance(stage, Stage)
            if active and isinstance(stage, Stage):
                stage.configure(toxic.attrs)
                self._wire()  # the new attributes may want arrival stamps
            elif active:
                entry[1] = toxic.kind.stage(self, toxic.attrs, toxic.rng)
                self._wire()
            elif isinstance(stage, Stage):
                entry[1] = None
                self._wire()
                stage.detach()
            return

    def _wire(self) -> None:
        following: Downstream = self
        for _, stage in reversed(self.stages):
            if isinstance(stage, Stage):
                stage.next = following
                following = stage
                if stage.wants_arrival and not self.stamping:
                    self.stamping = self.deferred = True
                    self.enable_stamps()
        self.head = following if isinstance(following, Stage) else None

    def enable_stamps(self) -> None:
        """Ask the kernel for receive timestamps (once a stage wants them; kept after)."""
        if self.stamping and self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)

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

    def dispose(self) -> None:
        for _, stage in self.stages:
            if isinstance(stage, Stage):
                stage.dispose()
        self.stages.clear()  # stages point back here: free them without the GC
        self.head = None
        self.held = 0


class Link:
    """A client connection, the upstream connection made for it, and their lifecycle."""

    __slots__ = ("client", "grace", "proxy", "server", "state")

    def __init__(self, proxy: Proxy, client_sock: socket.socket) -> None:
        self.proxy = proxy
        reactor = proxy.reactor
        self.client = client = Endpoint(self, "upstream", reactor)
        self.server = server = Endpoint(self, "downstream", reactor)
        client.peer = server
        server.peer = client
        self.state = _OPEN
        self.grace: asyncio.TimerHandle | None = None
        client.sock = client_sock
        client.fd = client_sock.fileno()
        client.writable = True
        for toxic in proxy.toxics.values():
            self.endpoint_for(toxic).add_toxic(toxic)
        proxy.link_opened(self)
        target = proxy.upstream_sockaddr
        if target is not None:
            self.connect(*target)
        else:  # a host name: resolve it off the loop first
            proxy.loop.create_task(self._resolve_and_connect())

    def endpoint_for(self, toxic: Toxic) -> Endpoint:
        return self.client if toxic.stream == "upstream" else self.server

    # -- connecting upstream ----------------------------------------------

    async def _resolve_and_connect(self) -> None:
        host, port = self.proxy.upstream_address
        try:
            infos = await self.proxy.loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            self._connect_failed(exc.strerror or str(exc))
            return
        if self.state == _OPEN:
            family, _, _, _, address = infos[0]
            self.connect(family, address)

    def connect(self, family: int, address: tuple[Any, ...]) -> None:
        """Start a non-blocking connect; the reactor reports when it is done."""
        server = self.server
        try:
            sock = socket.socket(family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            self._connect_failed(exc.strerror or str(exc))
            return
        server.sock = sock
        server.fd = sock.fileno()
        server.enable_stamps()
        code = sock.connect_ex(address)
        if code not in (0, errno.EINPROGRESS):
            self._connect_failed(os.strerror(code))
            return
        try:
            sock.getpeername()  # on loopback the handshake is usually done already
        except OSError:
            server.writing = True  # the reactor reports when the connect is done
            server._watch()
            self.proxy.reactor.set_deadline(self, CONNECT_TIMEOUT_S, self._connect_timeout)
            return
        self._established()
        if self.client.reading:
            self.client._on_readable()  # the client has most likely spoken already

    def connected(self, events: int) -> None:
        server = self.server
        if events & _FAILED:
            code = server.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)  # type: ignore[union-attr]
            self._connect_failed(os.strerror(code) if code else "connection failed")
            return
        self.proxy.reactor.clear_deadline(self)
        self._established()

    def _established(self) -> None:
        server = self.server
        server.writable = True
        server.writing = server.pending()
        server.paused &= ~_CONNECTING
        server.reading = not server.paused
        server._watch()
        self.client.resume(_CONNECTING)
        if server.shut_pending and not server.pending():
            server.shut_pending = False
            server._shutdown()

    def _connect_timeout(self) -> None:
        if not self.server.writable:
            self._connect_failed("timed out")

    def _connect_failed(self, reason: str) -> None:
        if self.state != _OPEN:
            return
        self.proxy.reactor.clear_deadline(self)
        self.proxy.upstream_failed(reason)
        self.server.close_socket()
        self.close()

    # -- ending -----------------------------------------------------------

    def fail(self, endpoint: Endpoint) -> None:
        """A socket errored (reset, broken pipe): drop it, close the other after its queue."""
        endpoint.close_socket()
        self.close()

    def close(self) -> None:
        """Close both sockets once each has written what is queued for it."""
        if self.state != _OPEN:
            return
        self.state = _CLOSING
        for endpoint in (self.client, self.server):
            endpoint.pause(_DONE)
            if not endpoint.writable or not endpoint.pending():
                endpoint.close_socket()
        if self.client.sock is not None or self.server.sock is not None:
            self.grace = self.proxy.loop.call_later(CLOSE_GRACE_S, self.abort)
        self._finalize_if_done()

    def drained(self, endpoint: Endpoint) -> None:
        endpoint.close_socket()
        self._finalize_if_done()

    def reset(self) -> None:
        """End both sockets with a TCP RST (SO_LINGER 0), dropping unsent bytes."""
        self.state = max(self.state, _CLOSING)
        self.client.close_socket(linger_reset=True)
        self.server.close_socket(linger_reset=True)
        self._finalize_if_done()

    def abort(self) -> None:
        """Drop both sockets now (proxy disabled or deleted, or a stuck close)."""
        self.state = max(self.state, _CLOSING)
        self.client.close_socket()
        self.server.close_socket()
        self._finalize_if_done()

    def _finalize_if_done(self) -> None:
        if self.state != _CLOSING or self.client.sock is not None or self.server.sock is not None:
            return
        self.state = _GONE
        self.proxy.reactor.clear_deadline(self)
        if self.grace is not None:
            self.grace.cancel()
            self.grace = None
        self.client.dispose()
        self.server.dispose()
        self.proxy.link_closed(self)
