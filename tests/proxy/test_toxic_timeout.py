"""timeout: no data passes; the connection closes after `timeout` ms of silence.

Upstream semantics: `timeout` 0 holds the connection forever, and removing the
toxic closes the connections it held (their bytes were discarded).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.proxy.conftest import ProxyUnderTest, TcpServer, read_exactly

MakeProxy = Callable[[str], ProxyUnderTest]


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_timeout_closes_without_passing_data(
    make_proxy: MakeProxy, echo_server: TcpServer, stream: str
) -> None:
    proxy = make_proxy(echo_server.address)
    proxy.add_toxic("timeout", stream, timeout=300)
    with proxy.connect() as sock:
        start = time.monotonic()
        sock.sendall(b"anyone there?")
        assert sock.recv(100) == b""  # no echo, then the close
        elapsed = time.monotonic() - start
    assert 0.25 <= elapsed < 2.0, elapsed


def test_timeout_zero_holds_until_the_toxic_is_removed(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    toxic = proxy.add_toxic("timeout", "downstream", timeout=0)
    with proxy.connect() as sock:
        sock.sendall(b"held")
        sock.settimeout(0.6)
        with pytest.raises(TimeoutError):
            sock.recv(100)  # neither data nor a close
        sock.settimeout(5)
        proxy.remove_toxic(toxic)
        start = time.monotonic()
        assert sock.recv(100) == b""  # removal closes what the toxic held
        assert time.monotonic() - start < 2.0
    with proxy.connect() as sock:  # new connections flow normally again
        sock.sendall(b"fresh")
        assert read_exactly(sock, 5) == b"fresh"


def test_data_keeps_a_timeout_connection_open(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    proxy.add_toxic("timeout", "upstream", timeout=500)
    with proxy.connect() as sock:
        start = time.monotonic()
        for _ in range(6):  # 0.9 s of traffic, each byte restarts the idle timer
            sock.sendall(b"x")
            time.sleep(0.15)
        sock.settimeout(0.05)
        with pytest.raises(TimeoutError):
            sock.recv(10)  # still open after more than the timeout
        sock.settimeout(5)
        assert sock.recv(10) == b""
        assert time.monotonic() - start >= 0.9
