"""slow_close: bytes pass at once, the close is held back for `delay` ms."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from tests.proxy.conftest import ProxyUnderTest, TcpServer, read_exactly
from tests.proxy.helpers import external_server, improvement

MakeProxy = Callable[[str], ProxyUnderTest]
StartServer = Callable[[Callable[[socket.socket], None]], TcpServer]


def greet_and_close(conn: socket.socket) -> None:
    conn.sendall(b"bye")
    conn.close()


def report_eof(conn: socket.socket) -> None:
    while conn.recv(4096):
        pass
    conn.sendall(b"eof seen")


def test_downstream_close_is_delayed(make_proxy: MakeProxy, tcp_server: StartServer) -> None:
    proxy = make_proxy(tcp_server(greet_and_close).address)
    proxy.add_toxic("slow_close", "downstream", delay=400)
    with proxy.connect() as sock:
        start = time.monotonic()
        assert read_exactly(sock, 3) == b"bye"
        data_at = time.monotonic() - start
        assert sock.recv(10) == b""
        closed_at = time.monotonic() - start
    assert data_at < 0.3, data_at
    assert 0.38 <= closed_at < 1.5, closed_at


def test_upstream_close_is_delayed(make_proxy: MakeProxy, tcp_server: StartServer) -> None:
    # Timed at the upstream server, so it holds for Toxiproxy 2.12 too, which
    # closes the whole connection on a client's EOF (no answer could come back).
    eof_seen = threading.Event()

    def note_eof(conn: socket.socket) -> None:
        while conn.recv(4096):
            pass
        eof_seen.set()

    proxy = make_proxy(tcp_server(note_eof).address)
    proxy.add_toxic("slow_close", "upstream", delay=400)
    with proxy.connect() as sock:
        sock.sendall(b"last words")
        start = time.monotonic()
        sock.shutdown(socket.SHUT_WR)
        assert eof_seen.wait(3.0)
        elapsed = time.monotonic() - start
    assert 0.38 <= elapsed < 1.5, elapsed


@improvement(
    "a half-closed connection keeps carrying the answer",
    upstream="after the delayed close nothing comes back: the upstream's answer is lost",
    asserted=True,
)
def test_upstream_close_is_delayed_and_the_answer_still_arrives(
    make_proxy: MakeProxy, tcp_server: StartServer
) -> None:
    proxy = make_proxy(tcp_server(report_eof).address)
    proxy.add_toxic("slow_close", "upstream", delay=400)
    with proxy.connect() as sock:
        sock.sendall(b"last words")
        start = time.monotonic()
        sock.shutdown(socket.SHUT_WR)
        if external_server():
            assert sock.recv(16) == b""
            return
        assert read_exactly(sock, 8) == b"eof seen"
        elapsed = time.monotonic() - start
    assert 0.38 <= elapsed < 1.5, elapsed


def test_without_the_toxic_the_close_is_immediate(
    make_proxy: MakeProxy, tcp_server: StartServer
) -> None:
    proxy = make_proxy(tcp_server(greet_and_close).address)
    with proxy.connect() as sock:
        start = time.monotonic()
        assert read_exactly(sock, 3) == b"bye"
        assert sock.recv(10) == b""
        assert time.monotonic() - start < 0.3
