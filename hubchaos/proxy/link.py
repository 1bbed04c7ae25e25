"""One proxied connection: client socket <-> upstream socket, and its lifecycle.

A link pairs two endpoints (endpoint.py: one socket each, with the toxics of
the direction read from it), connects upstream with one non-blocking
connect() per client (no task), and closes both sockets once each has written
what is queued for it. It sees its proxy only through `LinkOwner`, so
proxy.py imports this module and not the other way round.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from typing import TYPE_CHECKING, Any, Protocol

from hubchaos.proxy.endpoint import Endpoint
from hubchaos.proxy.reactor import Reactor
from hubchaos.proxy.socket_side import CLOSING, CONNECTING, DONE, FAILED, GONE, OPEN, SocketSide

if TYPE_CHECKING:
    from hubchaos.proxy.toxic import Toxic

CONNECT_TIMEOUT_S = 10.0
CLOSE_GRACE_S = 5.0  # a closing socket that can't flush its queue by then is dropped


class LinkOwner(Protocol):
    """What a link needs from the proxy it belongs to (proxy.Proxy)."""

    reactor: Reactor
    loop: asyncio.AbstractEventLoop
    toxics: dict[str, Toxic]
    upstream_sockaddr: tuple[int, tuple[Any, ...]] | None
    upstream_address: tuple[str, int]

    def link_opened(self, link: Link) -> None: ...
    def link_closed(self, link: Link) -> None: ...
    def upstream_failed(self, reason: str) -> None: ...


class Link:
    """A client connection, the upstream connection made for it, and their lifecycle."""

    __slots__ = ("client", "grace", "proxy", "server", "state")

    def __init__(self, proxy: LinkOwner, client_sock: socket.socket) -> None:
        self.proxy = proxy
        reactor = proxy.reactor
        self.client = client = Endpoint(self, "upstream", reactor)
        self.server = server = Endpoint(self, "downstream", reactor)
        client.peer = server
        server.peer = client
        self.state = OPEN
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
        if self.state == OPEN:
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
        if events & FAILED:
            code = server.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)  # type: ignore[union-attr]
            self._connect_failed(os.strerror(code) if code else "connection failed")
            return
        self.proxy.reactor.clear_deadline(self)
        self._established()

    def _established(self) -> None:
        server = self.server
        server.writable = True
        server.writing = server.pending()
        server.paused &= ~CONNECTING
        server.reading = not server.paused
        server._watch()
        self.client.resume(CONNECTING)
        if server.shut_pending and not server.pending():
            server.shut_pending = False
            server._shutdown()

    def _connect_timeout(self) -> None:
        if not self.server.writable:
            self._connect_failed("timed out")

    def _connect_failed(self, reason: str) -> None:
        if self.state != OPEN:
            return
        self.proxy.reactor.clear_deadline(self)
        self.proxy.upstream_failed(reason)
        self.server.close_socket()
        self.close()

    # -- ending -----------------------------------------------------------

    def fail(self, endpoint: SocketSide) -> None:
        """A socket errored (reset, broken pipe): drop it, close the other after its queue."""
        endpoint.close_socket()
        self.close()

    def close(self) -> None:
        """Close both sockets once each has written what is queued for it."""
        if self.state != OPEN:
            return
        self.state = CLOSING
        for endpoint in (self.client, self.server):
            endpoint.pause(DONE)
            if not endpoint.writable or not endpoint.pending():
                endpoint.close_socket()
        if self.client.sock is not None or self.server.sock is not None:
            self.grace = self.proxy.loop.call_later(CLOSE_GRACE_S, self.abort)
        self._finalize_if_done()

    def drained(self, endpoint: SocketSide) -> None:
        endpoint.close_socket()
        self._finalize_if_done()

    def reset(self) -> None:
        """End both sockets with a TCP RST (SO_LINGER 0), dropping unsent bytes."""
        self.state = max(self.state, CLOSING)
        self.client.close_socket(linger_reset=True)
        self.server.close_socket(linger_reset=True)
        self._finalize_if_done()

    def abort(self) -> None:
        """Drop both sockets now (proxy disabled or deleted, or a stuck close)."""
        self.state = max(self.state, CLOSING)
        self.client.close_socket()
        self.server.close_socket()
        self._finalize_if_done()

    def _finalize_if_done(self) -> None:
        if self.state != CLOSING or self.client.sock is not None or self.server.sock is not None:
            return
        self.state = GONE
        self.proxy.reactor.clear_deadline(self)
        if self.grace is not None:
            self.grace.cancel()
            self.grace = None
        self.client.dispose()
        self.server.dispose()
        self.proxy.link_closed(self)
