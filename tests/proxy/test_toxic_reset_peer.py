"""reset_peer: after the first data and `timeout` ms, the connection is reset (TCP RST)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.proxy.conftest import ProxyUnderTest, TcpServer, read_exactly

MakeProxy = Callable[[str], ProxyUnderTest]


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_reset_peer_resets_the_client(
    make_proxy: MakeProxy, echo_server: TcpServer, stream: str
) -> None:
    proxy = make_proxy(echo_server.address)
    proxy.add_toxic("reset_peer", stream, timeout=0)
    with proxy.connect() as sock:
        sock.sendall(b"hello")
        with pytest.raises(ConnectionResetError):
            while sock.recv(100):
                pass


def test_reset_waits_for_the_timeout(make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    proxy = make_proxy(echo_server.address)
    proxy.add_toxic("reset_peer", "upstream", timeout=300)
    with proxy.connect() as sock:
        start = time.monotonic()
        sock.sendall(b"hello")
        with pytest.raises(ConnectionResetError):
            while sock.recv(100):
                pass
        elapsed = time.monotonic() - start
    assert 0.25 <= elapsed < 2.0, elapsed


def test_an_idle_connection_is_not_reset(make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    proxy = make_proxy(echo_server.address)
    toxic = proxy.add_toxic("reset_peer", "downstream", timeout=0)
    with proxy.connect() as sock:
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(10)  # nothing flowed downstream: nothing to trigger the reset
        sock.settimeout(5)
        proxy.remove_toxic(toxic)
        sock.sendall(b"still fine")
        assert read_exactly(sock, 10) == b"still fine"
