"""limit_data: exactly `bytes` bytes pass, then the connection is closed."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable

from tests.proxy.conftest import ProxyUnderTest, TcpServer, read_to_eof

MakeProxy = Callable[[str], ProxyUnderTest]
StartServer = Callable[[Callable[[socket.socket], None]], TcpServer]
PAYLOAD = bytes(range(256)) * 20  # 5120 bytes


def send_payload(conn: socket.socket) -> None:
    conn.sendall(PAYLOAD)
    conn.recv(1)  # stay open: only the toxic may end the connection


def test_downstream_cut_is_exact(make_proxy: MakeProxy, tcp_server: StartServer) -> None:
    proxy = make_proxy(tcp_server(send_payload).address)
    proxy.add_toxic("limit_data", "downstream", bytes=1000)
    with proxy.connect() as sock:
        assert read_to_eof(sock) == PAYLOAD[:1000]


def test_upstream_cut_is_exact_across_writes(
    make_proxy: MakeProxy, tcp_server: StartServer
) -> None:
    received: list[bytes] = []
    done = threading.Event()

    def record(conn: socket.socket) -> None:
        received.append(read_to_eof(conn))
        done.set()

    proxy = make_proxy(tcp_server(record).address)
    proxy.add_toxic("limit_data", "upstream", bytes=100)
    # Past the limit the proxy closes the client, which may answer the rest of
    # our writes with a reset: both are "closed".
    with proxy.connect() as sock, contextlib.suppress(BrokenPipeError, ConnectionResetError):
        for index in range(5):
            sock.sendall(bytes([index]) * 40)
            time.sleep(0.01)
        assert read_to_eof(sock) == b""
    assert done.wait(5)
    assert received == [b"\0" * 40 + b"\1" * 40 + b"\2" * 20]


def test_a_limit_above_the_traffic_changes_nothing(
    make_proxy: MakeProxy, tcp_server: StartServer
) -> None:
    proxy = make_proxy(tcp_server(send_payload).address)
    proxy.add_toxic("limit_data", "downstream", bytes=len(PAYLOAD) + 1)
    with proxy.connect() as sock:
        sock.settimeout(0.5)
        data = bytearray()
        try:
            while len(data) < len(PAYLOAD):
                chunk = sock.recv(65536)
                assert chunk, "closed before the limit"
                data += chunk
        finally:
            sock.settimeout(5)
    assert bytes(data) == PAYLOAD
