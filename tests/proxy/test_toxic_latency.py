"""latency: every chunk is delayed by latency +/- jitter, in both streams, order kept."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import httpx
import pytest

from tests.proxy.conftest import (
    IO_TIMEOUT_S,
    ProxyUnderTest,
    ServerProcess,
    TcpServer,
    read_exactly,
)
from tests.proxy.helpers import improvement

MakeProxy = Callable[[str], ProxyUnderTest]


def echo_rtt(sock_proxy: ProxyUnderTest, rounds: int = 2) -> list[float]:
    times = []
    with sock_proxy.connect() as sock:
        for index in range(rounds):
            payload = f"ping{index}".encode()
            start = time.monotonic()
            sock.sendall(payload)
            assert read_exactly(sock, len(payload)) == payload
            times.append(time.monotonic() - start)
    return times


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_latency_delays_each_chunk(
    make_proxy: MakeProxy, echo_server: TcpServer, stream: str
) -> None:
    proxy = make_proxy(echo_server.address)
    assert max(echo_rtt(proxy)) < 0.1  # baseline without the toxic
    proxy.add_toxic("latency", stream, latency=150)
    for elapsed in echo_rtt(proxy):
        assert 0.14 <= elapsed < 0.6, elapsed


def test_latencies_of_both_streams_add_up(make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    proxy = make_proxy(echo_server.address)
    proxy.add_toxic("latency", "upstream", latency=100)
    proxy.add_toxic("latency", "downstream", latency=100)
    for elapsed in echo_rtt(proxy):
        assert 0.19 <= elapsed < 0.7, elapsed


def test_jitter_varies_the_delay_within_bounds(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    proxy.add_toxic("latency", latency=100, jitter=60)
    times = echo_rtt(proxy, rounds=12)
    assert all(0.035 <= elapsed < 0.7 for elapsed in times), times
    assert max(times) - min(times) > 0.01, times  # 12 draws from +/-60 ms can't all agree


def test_jitter_never_reorders_bytes(make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    proxy = make_proxy(echo_server.address)
    proxy.add_toxic("latency", latency=30, jitter=30)
    messages = [f"<{index:03d}>".encode() for index in range(60)]
    with proxy.connect() as sock:
        for message in messages:
            sock.sendall(message)
            time.sleep(0.002)  # separate chunks, each with its own delay draw
        assert read_exactly(sock, sum(map(len, messages))) == b"".join(messages)


def test_removing_latency_releases_held_bytes_at_once(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    toxic = proxy.add_toxic("latency", latency=3000)
    with proxy.connect() as sock:
        start = time.monotonic()
        sock.sendall(b"held")
        time.sleep(0.2)
        proxy.remove_toxic(toxic)
        assert read_exactly(sock, 4) == b"held"
        assert time.monotonic() - start < 1.5


def test_updating_latency_applies_to_open_connections(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    toxic = proxy.add_toxic("latency", latency=400)
    with proxy.connect() as sock:
        start = time.monotonic()
        sock.sendall(b"a")
        read_exactly(sock, 1)
        assert time.monotonic() - start >= 0.38
        proxy.update_toxic(toxic, {"attributes": {"latency": 0}})
        start = time.monotonic()
        sock.sendall(b"b")
        read_exactly(sock, 1)
        assert time.monotonic() - start < 0.2


def test_raising_latency_from_zero_applies_to_open_connections(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    toxic = proxy.add_toxic("latency", latency=0)
    with proxy.connect() as sock:
        sock.sendall(b"a")
        read_exactly(sock, 1)
        proxy.update_toxic(toxic, {"attributes": {"latency": 300}})
        start = time.monotonic()
        sock.sendall(b"b")
        read_exactly(sock, 1)
        assert 0.29 <= time.monotonic() - start < 1.0


@improvement(
    "latency is counted from a chunk's arrival at the socket",
    upstream="a chunk is stamped when the proxy reads it (stream/io_chan.go), so time the "
    "process is not scheduled adds to the latency (measured: 1.8 s for 1000 ms after a 0.8 s "
    "stop, 2 of 3 tries); this test stops its own hubchaos process",
)
def test_latency_counts_from_arrival_not_from_a_late_read(
    proxy_process: Callable[..., ServerProcess], echo_server: TcpServer
) -> None:
    """Time the proxy spends unscheduled is part of the delay, not added to it."""
    server = proxy_process()
    with httpx.Client(base_url=server.url, timeout=IO_TIMEOUT_S) as api:
        proxy = ProxyUnderTest(api, "stalled", echo_server.address)
        proxy.add_toxic("latency", "upstream", latency=1000)
        with proxy.connect() as sock:
            sock.sendall(b"warm")  # the link is up before the proxy is stalled
            assert read_exactly(sock, 4) == b"warm"
            os.kill(server.proc.pid, signal.SIGSTOP)
            try:
                start = time.monotonic()
                sock.sendall(b"late")  # arrives while the proxy can't read it
                time.sleep(0.8)
            finally:
                os.kill(server.proc.pid, signal.SIGCONT)
            assert read_exactly(sock, 4) == b"late"
            elapsed = time.monotonic() - start
    # Counted from the read it would be >= 1.8 s; never less than the latency.
    assert 0.98 <= elapsed < 1.6, elapsed
