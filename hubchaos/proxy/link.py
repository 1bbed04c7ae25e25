"""One proxied connection: client socket <-> upstream socket, each direction with its toxics.

Hot path: with no toxic on a direction, `data_received` writes straight to the
peer transport; flow control is the transports' own (the receiver's
pause_writing pauses the sender's reading). With toxics, bytes go through a
chain of stages (see toxics/base.py) ending in the endpoint's `push`/`finish`,
and the bytes a stage holds back also pause reading past a high-water mark.
The chain is rewired in place when toxics are added, changed or removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from typing import TYPE_CHECKING, cast

from hubchaos.proxy.toxics.base import CLOSE, EOF, Downstream, Stage

if TYPE_CHECKING:
    from hubchaos.proxy.proxy import Proxy
    from hubchaos.proxy.toxic import Toxic

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
CLOSE_GRACE_S = 5.0  # a closing side that can't flush its buffer by then is aborted
HIGH_WATER = 1 << 20  # bytes held by toxics before the sender is paused
LOW_WATER = 256 << 10

# Why reading from a socket is paused (bit mask; reading resumes at 0).
_CONNECTING = 1
_PEER_FULL = 2
_HELD = 4

_LINGER_RESET = struct.pack("ii", 1, 0)

_OPEN, _CLOSING, _GONE = 0, 1, 2


class Endpoint(asyncio.Protocol):
    """One socket of a link, plus the direction of bytes read from it.

    It is the asyncio protocol of its socket, the owner of the toxic stages its
    bytes pass through, and the sink at the end of that chain, writing to the
    peer socket.
    """

    __slots__ = (
        "ended",
        "head",
        "held",
        "link",
        "loop",
        "paused",
        "peer",
        "received",
        "sent",
        "stages",
        "stream",
        "transport",
        "waiting",
    )

    def __init__(self, link: Link, stream: str, loop: asyncio.AbstractEventLoop) -> None:
        self.link = link
        self.stream = stream  # "upstream" for the client socket, "downstream" for the server's
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.peer: Endpoint = self
        self.stages: list[list[object]] = []  # [toxic, stage or None]: in chain order
        self.head: Stage | None = None
        self.received = 0
        self.sent = 0
        self.held = 0
        self.paused = 0
        self.ended = False
        self.waiting: list[bytes] | None = None  # output produced before the peer connected

    # -- asyncio protocol -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement but do not subclass asyncio.Transport
        self.link.attached(self, cast(asyncio.Transport, transport))

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        head = self.head
        if head is not None:
            head.push(data)
            return
        peer = self.peer.transport
        if peer is None:
            self.push(data)  # upstream still connecting: wait in the sink
        else:
            self.sent += len(data)
            peer.write(data)

    def eof_received(self) -> bool:
        (self.head or self).finish(EOF)
        return True  # keep the socket open: the other direction may still flow

    def pause_writing(self) -> None:
        self.peer.pause(_PEER_FULL)

    def resume_writing(self) -> None:
        self.peer.resume(_PEER_FULL)

    def connection_lost(self, exc: Exception | None) -> None:
        self.link.detached(exc)

    # -- sink: the end of this direction's chain --------------------------

    def push(self, data: bytes) -> None:
        if self.ended:
            return
        peer = self.peer.transport
        if peer is None:
            self._wait(data)
        elif not peer.is_closing():
            self.sent += len(data)
            peer.write(data)

    def finish(self, end: int) -> None:
        if self.ended:
            return
        self.ended = True
        if end == EOF:
            peer = self.peer.transport
            if peer is None:
                self._wait(b"")  # the empty chunk stands for the end
                return
            if not peer.is_closing() and peer.can_write_eof():
                peer.write_eof()
            self.link.half_closed()
        elif end == CLOSE:
            self.link.close()
        else:
            self.link.reset()

    def _wait(self, data: bytes) -> None:
        # uvloop may deliver a first chunk although reading was paused in
        # connection_made; keep it (and an early EOF) until the peer is there.
        if self.link.state != _OPEN:
            return
        if self.waiting is None:
            self.waiting = []
        self.waiting.append(data)
        self.hold(len(data))

    def flush_waiting(self) -> None:
        waiting, self.waiting = self.waiting, None
        peer = self.peer.transport
        if not waiting or peer is None:
            return
        for data in waiting:
            self.release(len(data))
            if data:
                self.sent += len(data)
                peer.write(data)
            elif peer.can_write_eof():
                peer.write_eof()
                self.link.half_closed()

    # -- flow control -----------------------------------------------------

    def pause(self, reason: int) -> None:
        was = self.paused
        self.paused = was | reason
        transport = self.transport
        if not was and transport is not None and not transport.is_closing():
            transport.pause_reading()

    def resume(self, reason: int) -> None:
        if not self.paused & reason:
            return
        self.paused &= ~reason
        transport = self.transport
        if not self.paused and transport is not None and not transport.is_closing():
            transport.resume_reading()

    def hold(self, nbytes: int) -> None:
        self.held += nbytes
        if self.held > HIGH_WATER:
            self.pause(_HELD)

    def release(self, nbytes: int) -> None:
        self.held -= nbytes
        if self.held <= LOW_WATER and self.paused & _HELD:
            self.resume(_HELD)

    # -- toxics -----------------------------------------------------------

    def add_toxic(self, toxic: Toxic) -> None:
        stage = toxic.stage_for(self)
        self.stages.append([toxic, stage])
        if stage is not None:
            self._wire()

    def remove_toxic(self, toxic: Toxic) -> None:
        for index, (known, stage) in enumerate(self.stages):
            if known is toxic:
                if isinstance(stage, Stage):
                    stage.detach()  # hands held bytes on, in order, before unhooking
                del self.stages[index]
                self._wire()
                return

    def update_toxic(self, toxic: Toxic, redraw: bool) -> None:
        for entry in self.stages:
            if entry[0] is not toxic:
                continue
            stage = entry[1]
            if not redraw:
                if isinstance(stage, Stage):
                    stage.configure(toxic.attrs)
                return
            active = toxic.draw()
            if active and isinstance(stage, Stage):
                stage.configure(toxic.attrs)
            elif active:
                entry[1] = toxic.kind.stage(self, toxic.attrs, toxic.rng)
                self._wire()
            elif isinstance(stage, Stage):
                stage.detach()
                entry[1] = None
                self._wire()
            return

    def _wire(self) -> None:
        following: Downstream = self
        for _, stage in reversed(self.stages):
            if isinstance(stage, Stage):
                stage.next = following
                following = stage
        self.head = following if isinstance(following, Stage) else None

    def dispose(self) -> None:
        for _, stage in self.stages:
            if isinstance(stage, Stage):
                stage.dispose()
        self.head = None
        self.held = 0


class Link:
    """A client connection, the upstream connection made for it, and their lifecycle."""

    __slots__ = ("client", "connecting", "connector", "grace", "open", "proxy", "server", "state")

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        loop = proxy.loop
        self.client = Endpoint(self, "upstream", loop)
        self.server = Endpoint(self, "downstream", loop)
        self.client.peer = self.server
        self.server.peer = self.client
        self.state = _OPEN
        self.open = 0  # sockets attached and not yet lost
        self.connecting = False
        self.connector: asyncio.Task[None] | None = None
        self.grace: asyncio.TimerHandle | None = None
        for toxic in proxy.toxics.values():
            self.endpoint_for(toxic).add_toxic(toxic)

    def endpoint_for(self, toxic: Toxic) -> Endpoint:
        return self.client if toxic.stream == "upstream" else self.server

    # -- socket lifecycle -------------------------------------------------

    def attached(self, endpoint: Endpoint, transport: asyncio.Transport) -> None:
        endpoint.transport = transport
        self.open += 1
        if self.state != _OPEN:
            transport.abort()
            return
        if endpoint is self.client:
            self.proxy.link_opened(self)
            endpoint.pause(_CONNECTING)
            # uvloop starts reading after connection_made even when paused
            # there: pause again once it has.
            self.proxy.loop.call_soon(self._still_connecting)
            self.connecting = True
            self.connector = self.proxy.loop.create_task(self._connect())
        else:
            if endpoint.paused:
                transport.pause_reading()
            self.client.flush_waiting()
            self.client.resume(_CONNECTING)

    def _still_connecting(self) -> None:
        transport = self.client.transport
        if self.client.paused and transport is not None and not transport.is_closing():
            transport.pause_reading()

    async def _connect(self) -> None:
        proxy = self.proxy
        task = self.connector
        assert task is not None
        timer = proxy.loop.call_later(CONNECT_TIMEOUT_S, task.cancel)
        failure: str | None = None
        try:
            host, port = proxy.upstream_address
            await proxy.loop.create_connection(lambda: self.server, host, port)
        except asyncio.CancelledError:
            failure = "timed out" if self.state == _OPEN else None
        except OSError as exc:
            failure = exc.strerror or str(exc)
        finally:
            timer.cancel()
            self.connecting = False
        if failure is not None:
            proxy.upstream_failed(failure)
            self.close()
        self._finalize_if_done()

    def detached(self, exc: Exception | None) -> None:
        self.open -= 1
        if self.state == _OPEN:
            self.close()  # one side went away: end the other one too
        self._finalize_if_done()

    def half_closed(self) -> None:
        if self.client.ended and self.server.ended:
            self.close()

    # -- ending -----------------------------------------------------------

    def close(self) -> None:
        """Close both sockets after flushing what was already written."""
        if self.state != _OPEN:
            return
        self.state = _CLOSING
        pending = False
        for endpoint in (self.client, self.server):
            transport = endpoint.transport
            if transport is not None and not transport.is_closing():
                pending = pending or transport.get_write_buffer_size() > 0
                transport.close()
        self._stop_connecting()
        if pending:
            self.grace = self.proxy.loop.call_later(CLOSE_GRACE_S, self.abort)
        self._finalize_if_done()

    def reset(self) -> None:
        """End both sockets with a TCP RST (SO_LINGER 0), dropping unsent bytes."""
        for endpoint in (self.client, self.server):
            transport = endpoint.transport
            if transport is not None and not transport.is_closing():
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self.abort()

    def abort(self) -> None:
        """Drop both sockets now (proxy disabled or deleted, or a stuck close)."""
        self.state = max(self.state, _CLOSING)
        for endpoint in (self.client, self.server):
            transport = endpoint.transport
            if transport is not None:
                transport.abort()
        self._stop_connecting()
        self._finalize_if_done()

    def _stop_connecting(self) -> None:
        if self.connecting and self.connector is not None:
            self.connector.cancel()

    def _finalize_if_done(self) -> None:
        if self.state != _CLOSING or self.open > 0 or self.connecting:
            return
        self.state = _GONE
        if self.grace is not None:
            self.grace.cancel()
            self.grace = None
        self.client.dispose()
        self.server.dispose()
        self.proxy.link_closed(self)
