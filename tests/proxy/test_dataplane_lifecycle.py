"""Connections through a proxy: enable/disable, upstream failures, counters."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import refused_port
from tests.proxy.conftest import ProxyUnderTest, TcpServer, read_exactly
from tests.proxy.helpers import external_server, improvement, wait_until

MakeProxy = Callable[[str], ProxyUnderTest]


def closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(10) == b""
    except ConnectionResetError:
        return True


def test_disabling_drops_open_connections_and_refuses_new(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    with proxy.connect() as sock:
        sock.sendall(b"hi")
        assert read_exactly(sock, 2) == b"hi"
        proxy.set_enabled(False)
        assert closed_by_peer(sock)
    with pytest.raises(ConnectionRefusedError):
        proxy.connect(timeout_s=2).close()
    proxy.set_enabled(True)
    with proxy.connect() as sock:  # same port again
        sock.sendall(b"back")
        assert read_exactly(sock, 4) == b"back"


def test_dead_upstream_closes_the_client_quickly(make_proxy: MakeProxy) -> None:
    proxy = make_proxy(f"127.0.0.1:{refused_port()}")  # nothing listens there
    with proxy.connect() as sock:
        start = time.monotonic()
        sock.sendall(b"hello?")
        assert closed_by_peer(sock)
        assert time.monotonic() - start < 1.0


def test_deleting_a_proxy_closes_its_connections(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    with proxy.connect() as sock:
        sock.sendall(b"x")
        read_exactly(sock, 1)
        assert proxy.api.delete(f"/proxies/{proxy.name}").status_code == 204
        assert closed_by_peer(sock)


def test_many_concurrent_connections_each_get_their_own_bytes(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    proxy.add_toxic("latency", "downstream", latency=20, jitter=10)
    sockets = [proxy.connect() for _ in range(40)]
    try:
        for index, sock in enumerate(sockets):
            sock.sendall(f"conn-{index:02d}".encode())
        for index, sock in enumerate(sockets):
            assert read_exactly(sock, 7) == f"conn-{index:02d}".encode()
    finally:
        for sock in sockets:
            sock.close()


METRICS_DIFFERENCE = (
    "/metrics counts bytes while a connection is open, also counts connections and active "
    "toxics, and is always served"
)


@improvement(
    METRICS_DIFFERENCE,
    upstream="/metrics only with --proxy-metrics (plain-text 404 otherwise); then only "
    "received/sent byte counters, added when a connection ends",
    asserted=True,
)
def test_metrics_count_bytes_connections_and_toxics(
    make_proxy: MakeProxy, echo_server: TcpServer, api: httpx.Client
) -> None:
    proxy = make_proxy(echo_server.address)
    proxy.add_toxic("latency", "upstream", latency=1)
    with proxy.connect() as sock:
        sock.sendall(b"x" * 1000)
        read_exactly(sock, 1000)
        response = api.get("/metrics")
    if external_server() and response.status_code == 404:
        assert "404 page not found" in response.text  # started without --proxy-metrics
        return
    # Upstream keeps the series of deleted proxies of the same name: ours only.
    ours = f'upstream="{echo_server.address}"'

    def value(text: str, metric: str, extra: str = "") -> float | None:
        pattern = rf"^{metric}\{{([^}}]*proxy=\"{proxy.name}\"[^}}]*)\}} (\S+)$"
        for match in re.finditer(pattern, text, re.MULTILINE):
            if extra in match.group(1) and (ours in match.group(1) or not external_server()):
                return float(match.group(2))
        return None

    received = ("toxiproxy_proxy_received_bytes_total", 'direction="upstream"')
    sent = ("toxiproxy_proxy_sent_bytes_total", 'direction="downstream"')
    if external_server():
        assert value(response.text, *received) is None  # nothing counted while open
        settled = ""

        def counted() -> bool:
            nonlocal settled
            settled = api.get("/metrics").text
            return value(settled, *received) == 1000 and value(settled, *sent) == 1000

        assert wait_until(counted), settled
        assert "toxiproxy_proxy_connections_total" not in settled
        assert "toxiproxy_proxy_toxics_active" not in settled
        return
    text = response.text
    assert value(text, *received) == 1000, text
    assert value(text, *sent) == 1000, text
    assert value(text, "toxiproxy_proxy_connections_total") == 1, text
    assert value(text, "toxiproxy_proxy_connections_active") == 1, text
    assert value(text, "toxiproxy_proxy_toxics_active") == 1, text
    assert value(text, "toxiproxy_proxy_toxic", 'type="latency"') == 1.0, text


def test_upstream_given_as_a_host_name(make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    proxy = make_proxy(f"localhost:{echo_server.port}")
    with proxy.connect() as sock:
        sock.sendall(b"by name")
        assert read_exactly(sock, 7) == b"by name"


def test_reset_releases_held_connections_and_reenables(
    make_proxy: MakeProxy, echo_server: TcpServer, api: httpx.Client
) -> None:
    holding = make_proxy(echo_server.address)
    holding.add_toxic("timeout", "upstream", timeout=0)
    disabled = make_proxy(echo_server.address)
    disabled.set_enabled(False)
    with holding.connect() as held:
        held.sendall(b"swallowed")
        assert api.post("/reset").status_code == 204
        assert closed_by_peer(held)  # the timeout toxic went: what it held is closed
    for proxy in (holding, disabled):  # both clean and enabled again
        with proxy.connect() as sock:
            sock.sendall(b"clean")
            assert read_exactly(sock, 5) == b"clean"
