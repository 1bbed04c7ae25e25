"""One proxy: its listening socket, live links, toxics and counters."""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
from typing import Any

from hubchaos.proxy import errors
from hubchaos.proxy.addresses import format_address, parse_address
from hubchaos.proxy.errors import ApiError, BadRequest, Conflict
from hubchaos.proxy.link import Link
from hubchaos.proxy.reactor import IN, Reactor
from hubchaos.proxy.toxic import Toxic

log = logging.getLogger(__name__)

BACKLOG = 4096
ACCEPT_BATCH = 64  # connections accepted per readiness event before other work runs
ACCEPT_RETRY_S = 0.1
FAILURE_LOG_INTERVAL_S = 10.0


class Counters:
    """Totals of links that are gone; live links are added when scraped."""

    __slots__ = ("bytes_received", "bytes_sent", "connections", "upstream_failures")

    def __init__(self) -> None:
        self.connections = 0
        self.upstream_failures = 0
        self.bytes_received = {"upstream": 0, "downstream": 0}
        self.bytes_sent = {"upstream": 0, "downstream": 0}


class Proxy:
    deferred = True  # accept after the reactor's batch: no fd is reused within it

    def __init__(self, name: str, listen: str, upstream: str, reactor: Reactor):
        self.name = name
        self.reactor = reactor
        self.loop = reactor.loop
        self.listen = listen
        self.listen_address = parse_address(listen, "listen", allow_zero_port=True)
        check_listen_host(self.listen_address[0])
        self.upstream = upstream
        self.upstream_address = upstream_target(upstream)
        self.upstream_sockaddr = literal_sockaddr(*self.upstream_address)
        self.enabled = False
        self.toxics: dict[str, Toxic] = {}
        self.links: set[Link] = set()
        self.listener: socket.socket | None = None
        self.fd = -1
        self.mask = 0
        self.counters = Counters()
        self.failure_logged_at = -FAILURE_LOG_INTERVAL_S

    # -- JSON -------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": self.toxics_json(),
        }

    def toxics_json(self) -> list[dict[str, Any]]:
        # Upstream lists the upstream chain first, then the downstream one.
        ordered = sorted(self.toxics.values(), key=lambda t: t.stream != "upstream")
        return [toxic.to_json() for toxic in ordered]

    # -- listening --------------------------------------------------------

    async def start(self) -> None:
        if self.enabled:
            return
        sock = bind_listener(*self.listen_address)
        host, port = sock.getsockname()[:2]
        self.listen_address = (host, port)  # port 0 becomes the real port, kept on restart
        self.listen = format_address(host, port)
        self.listener = sock
        self.fd = sock.fileno()
        self.reactor.watch(self, IN)
        self.enabled = True

    def on_event(self, events: int) -> None:
        listener = self.listener
        if listener is None:
            return
        for _ in range(ACCEPT_BATCH):
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    self._pause_accepting(exc)
                return  # e.g. ECONNABORTED: the client gave up already
            sock.setblocking(False)  # TCP_NODELAY comes from the listener
            Link(self, sock)

    def crashed(self) -> None:
        """Accepting raised: the listener itself is fine, keep it."""

    def _pause_accepting(self, exc: OSError) -> None:
        """Out of descriptors or memory: stop accepting for a moment instead of spinning."""
        log.warning("proxy %s: can't accept connections (%s); retrying", self.name, exc.strerror)
        listener = self.listener
        if listener is not None:
            self.reactor.watch(self, 0)
            self.loop.call_later(ACCEPT_RETRY_S, self._resume_accepting, listener)

    def _resume_accepting(self, listener: socket.socket) -> None:
        if self.listener is listener:
            self.reactor.watch(self, IN)

    def stop(self) -> None:
        """Stop listening and drop every open connection."""
        listener, self.listener = self.listener, None
        if listener is not None:
            self.reactor.forget(self)
            listener.close()
        self.enabled = False
        for link in list(self.links):
            link.abort()

    async def move(self, listen: str, upstream: str) -> None:
        """Change addresses: connections are dropped and the listener rebinds (as upstream)."""
        listen_address = parse_address(listen, "listen", allow_zero_port=True)
        check_listen_host(listen_address[0])
        upstream_address = upstream_target(upstream)
        was_enabled = self.enabled
        self.stop()
        self.listen, self.listen_address = listen, listen_address
        self.upstream, self.upstream_address = upstream, upstream_address
        self.upstream_sockaddr = literal_sockaddr(*upstream_address)
        if was_enabled:
            await self.start()

    # -- links ------------------------------------------------------------

    def link_opened(self, link: Link) -> None:
        self.links.add(link)
        self.counters.connections += 1

    def link_closed(self, link: Link) -> None:
        self.links.discard(link)
        counters = self.counters
        for endpoint in (link.client, link.server):
            counters.bytes_received[endpoint.stream] += endpoint.received
            counters.bytes_sent[endpoint.stream] += endpoint.sent

    def upstream_failed(self, reason: str) -> None:
        self.counters.upstream_failures += 1
        now = self.loop.time()
        if now - self.failure_logged_at < FAILURE_LOG_INTERVAL_S:
            return  # a flood against a dead upstream must not flood the log
        self.failure_logged_at = now
        log.info(
            "proxy %s: upstream %s unreachable: %s (%d failed connections so far)",
            self.name,
            self.upstream,
            reason,
            self.counters.upstream_failures,
        )

    # -- toxics -----------------------------------------------------------

    def add_toxic(self, toxic: Toxic) -> None:
        if toxic.name in self.toxics:
            raise errors.toxic_exists()
        self.toxics[toxic.name] = toxic
        for link in list(self.links):
            link.endpoint_for(toxic).add_toxic(toxic)

    def get_toxic(self, name: str) -> Toxic:
        toxic = self.toxics.get(name)
        if toxic is None:
            raise errors.toxic_not_found()
        return toxic

    def update_toxic(self, toxic: Toxic, attrs: Any, toxicity: float) -> None:
        redraw = toxicity != toxic.toxicity
        toxic.attrs = attrs
        toxic.toxicity = toxicity
        for link in list(self.links):
            link.endpoint_for(toxic).update_toxic(toxic, redraw)

    def remove_toxic(self, name: str) -> None:
        toxic = self.get_toxic(name)
        del self.toxics[name]
        for link in list(self.links):
            link.endpoint_for(toxic).remove_toxic(toxic)

    def remove_all_toxics(self) -> None:
        for name in list(self.toxics):
            self.remove_toxic(name)


def check_listen_host(host: str) -> None:
    """Listen hosts are IP literals or localhost: resolving names could stall the API."""
    if host in ("", "localhost"):
        return
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise BadRequest(
            f"invalid listen: host {host!r} must be an IP address or 'localhost'"
        ) from None


def upstream_target(upstream: str) -> tuple[str, int]:
    host, port = parse_address(upstream, "upstream", allow_zero_port=False)
    return (host or "127.0.0.1", port)


def literal_sockaddr(host: str, port: int) -> tuple[int, tuple[str, int]] | None:
    """(family, address) when `host` is an IP literal: connect without resolving."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    return family, (host, port)


def bind_listener(host: str, port: int) -> socket.socket:
    """Bind now, synchronously, so two requests can't race for one port."""
    if host == "":
        host = "0.0.0.0"
    where = format_address(host, port)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise BadRequest(f"invalid listen {where}: {exc}") from None
    # Prefer IPv4 for "localhost", as Go's net.Listen does.
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets
        sock.bind(address)
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            raise Conflict(f"listen tcp {where}: address already in use") from None
        raise ApiError(f"invalid listen: listen tcp {where}: {reason}", 400) from None
    return sock
