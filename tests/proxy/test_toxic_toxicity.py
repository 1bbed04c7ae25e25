"""toxicity: the probability that a toxic acts on a connection, drawn per connection."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.proxy.conftest import ProxyUnderTest, TcpServer, read_exactly

MakeProxy = Callable[[str], ProxyUnderTest]


def delayed(proxy: ProxyUnderTest, threshold_s: float = 0.08) -> bool:
    with proxy.connect() as sock:
        start = time.monotonic()
        sock.sendall(b"?")
        read_exactly(sock, 1)
        return time.monotonic() - start >= threshold_s


def test_toxicity_zero_never_and_one_always_acts(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    toxic = proxy.add({"type": "latency", "toxicity": 0.0, "attributes": {"latency": 150}})
    assert not any(delayed(proxy) for _ in range(3))
    proxy.update_toxic(toxic, {"toxicity": 1.0})
    assert all(delayed(proxy) for _ in range(3))


def test_half_toxicity_splits_connections(make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    proxy = make_proxy(echo_server.address)
    proxy.add({"type": "latency", "toxicity": 0.5, "attributes": {"latency": 120}})
    outcomes = [delayed(proxy) for _ in range(24)]
    # Each connection draws on its own: 24 equal draws would have odds of 1 in 8 million.
    assert 0 < sum(outcomes) < len(outcomes), outcomes


def test_toxicity_is_drawn_per_connection_not_per_chunk(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    proxy.add({"type": "latency", "toxicity": 0.5, "attributes": {"latency": 120}})
    for _ in range(6):
        with proxy.connect() as sock:
            outcomes = []
            for _ in range(4):
                start = time.monotonic()
                sock.sendall(b"?")
                read_exactly(sock, 1)
                outcomes.append(time.monotonic() - start >= 0.08)
            assert len(set(outcomes)) == 1, outcomes
