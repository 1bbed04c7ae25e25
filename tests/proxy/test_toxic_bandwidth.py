"""bandwidth: bytes pass at `rate` KB/s (1 KB = 1000 bytes) in both streams."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from tests.proxy.conftest import ProxyUnderTest, TcpServer, read_exactly, read_to_eof
from tests.proxy.helpers import improvement

MakeProxy = Callable[[str], ProxyUnderTest]
StartServer = Callable[[Callable[[socket.socket], None]], TcpServer]
SIZE = 60_000


def send_then_close(conn: socket.socket) -> None:
    conn.sendall(bytes(range(256)) * (SIZE // 256) + b"\0" * (SIZE % 256))
    conn.shutdown(socket.SHUT_WR)
    conn.recv(1)


def count_then_ack(conn: socket.socket) -> None:
    read_exactly(conn, SIZE)
    conn.sendall(b"ok")


def test_downstream_rate_is_limited(make_proxy: MakeProxy, tcp_server: StartServer) -> None:
    proxy = make_proxy(tcp_server(send_then_close).address)
    proxy.add_toxic("bandwidth", "downstream", rate=120)  # 60 KB at 120 KB/s: 0.5 s
    with proxy.connect() as sock:
        start = time.monotonic()
        assert len(read_to_eof(sock)) == SIZE
        elapsed = time.monotonic() - start
    assert 0.4 <= elapsed < 1.5, elapsed


def test_upstream_rate_is_limited(make_proxy: MakeProxy, tcp_server: StartServer) -> None:
    proxy = make_proxy(tcp_server(count_then_ack).address)
    proxy.add_toxic("bandwidth", "upstream", rate=120)
    with proxy.connect() as sock:
        start = time.monotonic()
        sock.sendall(b"u" * SIZE)
        assert read_exactly(sock, 2) == b"ok"
        elapsed = time.monotonic() - start
    assert 0.4 <= elapsed < 1.5, elapsed


def test_without_the_toxic_the_same_transfer_is_fast(
    make_proxy: MakeProxy, tcp_server: StartServer
) -> None:
    proxy = make_proxy(tcp_server(send_then_close).address)
    with proxy.connect() as sock:
        start = time.monotonic()
        assert len(read_to_eof(sock)) == SIZE
        assert time.monotonic() - start < 0.3


@improvement(
    "raising a bandwidth toxic's rate from 0 while bytes wait is safe",
    upstream="can panic the whole server (slice bounds out of range, toxics/bandwidth.go:46: "
    "the new rate is applied inside a loop sized by the old one); a race, seen in 1 of 3 "
    "suite runs and 1 of 19 tries in a loop, so not run against a shared server",
)
def test_rate_zero_holds_bytes_until_the_rate_is_raised(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    toxic = proxy.add_toxic("bandwidth", "downstream", rate=0)
    with proxy.connect() as sock:
        sock.sendall(b"held back")
        sock.settimeout(0.4)
        try:
            early = sock.recv(100)
        except TimeoutError:
            early = b""
        assert early == b""
        sock.settimeout(5)
        proxy.update_toxic(toxic, {"attributes": {"rate": 1000}})
        assert read_exactly(sock, 9) == b"held back"
