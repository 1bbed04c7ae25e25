"""One socket of a proxied connection and the direction of bytes read from it.

Sockets are plain non-blocking sockets in the proxy's epoll set (reactor.py),
not asyncio transports: a direction without toxics moves bytes with
splice(2) (socket -> pipe -> socket, never copied into Python).

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

The socket itself (watching, pausing, the write queue, closing) is
socket_side.py's, the connection's lifecycle (connecting upstream, closing)
link.py's; an endpoint sees its link only through `LinkControl`, so no two of
these modules import each other.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import time
from typing import TYPE_CHECKING

from hubchaos.proxy import pipes
from hubchaos.proxy.reactor import READ_EVENTS, WRITE_EVENTS, Reactor
from hubchaos.proxy.socket_side import (
    DONE,
    FLAGS,
    PEER_FULL,
    LinkControl,
    SocketSide,
)
from hubchaos.proxy.toxics.base import CLOSE, EOF, Downstream, Stage

if TYPE_CHECKING:
    from hubchaos.proxy.toxic import Toxic

# recv() allocates this much per call: past glibc's mmap threshold (128 KiB)
# every read would mmap and munmap, costing more than the read itself.
READ_SIZE = 64 * 1024
BULK_ROUNDS = 16  # reads per readiness event while a flow is bulk (saves loop rounds)
BULK_MIN = 64 * 1024  # a read this large suggests more is already waiting

_SPLICE = pipes.AVAILABLE
# Kernel receive timestamps (CLOCK_REALTIME), so a delay counts from when bytes
# arrived, not from when a busy proxy got round to reading them.
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_TIMESPEC = struct.Struct("qq")
_STAMP_SPACE = socket.CMSG_SPACE(_TIMESPEC.size)
_MAX_STAMP_AGE_S = 60.0
# Read buffer shared by every toxic-free direction (one thread): what can't be
# sent at once is copied out before the next read reuses it.
_SCRATCH = memoryview(bytearray(READ_SIZE))


class Endpoint(SocketSide):
    """One socket of a link and the direction of bytes read from it.

    As a reader it is the source of one direction: it owns that direction's
    toxic stages and is the sink at the end of their chain. As a writer
    (socket_side.py) it holds the bytes queued for its socket.
    """

    __slots__ = (
        "arrived",
        "bulk",
        "head",
        "received",
        "sent",
        "stages",
        "stamping",
    )

    def __init__(self, link: LinkControl, stream: str, reactor: Reactor) -> None:
        super().__init__(link, stream, reactor)
        # reader side: the direction out of this socket
        self.stages: list[list[object]] = []  # [toxic, stage or None] in chain order
        self.head: Stage | None = None
        self.received = 0
        self.sent = 0
        self.bulk = False  # a read filled the shared buffer: splice this direction
        self.stamping = False  # a stage wants kernel arrival times (SO_TIMESTAMPNS)
        self.arrived = 0.0  # loop time the chunk being pushed arrived; 0.0 outside a read

    def on_event(self, events: int) -> None:
        if events & READ_EVENTS and self.reading:
            self._on_readable()
        if events & WRITE_EVENTS and self.writing and self.sock is not None:
            if self.writable:
                self._on_writable()
            else:
                self.link.connected(events)

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

    def _copy_through(self, peer: SocketSide) -> None:
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

    def _splice_through(self, peer: SocketSide) -> None:
        """Move bytes socket -> pipe -> peer socket; the pipe buffers what the peer can't take."""
        pipe = peer.pipe
        if pipe is None:
            pipe = peer.pipe = pipes.take()
        capacity = pipes.size()
        for _ in range(BULK_ROUNDS):
            try:
                count = os.splice(self.fd, pipe[1], capacity - peer.piped, flags=FLAGS)
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
                    peer.piped -= os.splice(pipe[0], peer.fd, peer.piped, flags=FLAGS)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    self.link.fail(peer)
                    break
            if peer.piped:
                peer._want_write()
                if peer.piped >= capacity:
                    self.pause(PEER_FULL)
                    break
            if count < BULK_MIN or not self.reading:
                break
        if peer.pipe is pipe and not peer.piped:
            peer.pipe = None
            pipes.give_back(pipe)

    def _read_eof(self) -> None:
        self.paused |= DONE
        self.reading = False
        (self.head or self).finish(EOF)
        # Stop watching unless finishing closed the socket (which leaves the epoll
        # set by itself): the last EOF of a link costs no epoll_ctl.
        if self.sock is not None:
            self._watch()

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

    def dispose(self) -> None:
        for _, stage in self.stages:
            if isinstance(stage, Stage):
                stage.dispose()
        self.stages.clear()  # stages point back here: free them without the GC
        self.head = None
        self.held = 0
