"""The real `toxiproxy-python` client, unchanged, drives the server end to end.

The client maps 409 -> ProxyExists, 404 -> NotFound, 400 -> InvalidToxic,
updates proxies with the legacy POST, reads `/version` raw and `/proxies` as an
object keyed by name; these tests hold the server to all of that.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists
from toxiproxy.proxy import Proxy

from tests.conftest import free_port
from tests.proxy.helpers import (
    LOOPBACK,
    EchoServer,
    connection_refused,
    echo_reply,
    read_until_closed,
    roundtrip,
    wait_until,
)

LATENCY_MS = 400


@pytest.fixture
def server(toxiproxy: str) -> Iterator[Toxiproxy]:
    """A client pointed at the server under test (the client keeps its address globally)."""
    url = httpx.URL(toxiproxy)
    saved = (APIConsumer.host, APIConsumer.port)
    client = Toxiproxy()
    client.update_api_consumer(url.host, url.port)
    try:
        yield client
    finally:
        APIConsumer.host, APIConsumer.port = saved


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with EchoServer(prefix=b"A:") as server:
        yield server


def port_of(proxy: Proxy) -> int:
    return int(proxy.listen.rpartition(":")[2])


def test_server_is_running_and_reports_a_version(server: Toxiproxy) -> None:
    assert server.running() is True
    version = server.version()
    assert isinstance(version, bytes)
    assert any(char.isdigit() for char in version.decode())


def test_create_list_and_use_a_proxy(server: Toxiproxy, echo: EchoServer) -> None:
    proxy = server.create(upstream=echo.address, name="web")
    assert proxy.name == "web"
    assert proxy.enabled is True
    assert proxy.upstream == echo.address
    assert port_of(proxy) != 0

    proxies = server.proxies()
    assert set(proxies) == {"web"}
    assert proxies["web"].listen == proxy.listen
    assert server.get_proxy("web") is not None
    assert server.get_proxy("ghost") is None
    assert echo_reply(port_of(proxy), b"hello") == b"A:hello"


def test_server_side_conflict_and_not_found_map_to_client_errors(
    server: Toxiproxy, echo: EchoServer
) -> None:
    server.create(upstream=echo.address, name="web")
    with pytest.raises(ProxyExists):
        server.create(upstream=echo.address, name="web")
    # Bypass the client's own pre-check so the server's 409 is what raises.
    body = {"name": "web", "upstream": echo.address, "listen": f"{LOOPBACK}:0"}
    with pytest.raises(ProxyExists):
        APIConsumer.post("/proxies", json=body)
    with pytest.raises(NotFound):
        APIConsumer.get("/proxies/ghost")


def test_latency_toxic_added_listed_and_removed(server: Toxiproxy, echo: EchoServer) -> None:
    proxy = server.create(upstream=echo.address, name="web")
    port = port_of(proxy)
    proxy.add_toxic(type="latency", attributes={"latency": LATENCY_MS})

    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream"}
    toxic = proxy.get_toxic("latency_downstream")
    assert toxic is not None
    assert (toxic.type, toxic.stream, toxic.toxicity) == ("latency", "downstream", 1.0)
    assert toxic.attributes == {"latency": LATENCY_MS, "jitter": 0}

    reply, elapsed = roundtrip(port, b"slow", reply_size=6)
    assert reply == b"A:slow"
    assert elapsed >= LATENCY_MS / 1000 * 0.95

    assert proxy.destroy_toxic("latency_downstream") is True
    assert proxy.toxics() == {}
    reply, elapsed = roundtrip(port, b"fast", reply_size=6)
    assert reply == b"A:fast"
    assert elapsed < LATENCY_MS / 1000 * 0.75


def test_toxic_errors_map_to_client_errors(server: Toxiproxy, echo: EchoServer) -> None:
    proxy = server.create(upstream=echo.address, name="web")
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="no_such_toxic")
    proxy.add_toxic(type="timeout", stream="upstream", attributes={"timeout": 1000})
    with pytest.raises(ProxyExists):
        proxy.add_toxic(type="timeout", stream="upstream")
    with pytest.raises(NotFound):
        proxy.destroy_toxic("ghost")


def test_down_context_takes_the_proxy_down_and_back(server: Toxiproxy, echo: EchoServer) -> None:
    proxy = server.create(upstream=echo.address, name="web")
    port = port_of(proxy)
    with socket.create_connection((LOOPBACK, port), timeout=5.0) as held:
        with proxy.down():
            assert proxy.enabled is False
            assert server.get_proxy("web").enabled is False
            assert wait_until(lambda: connection_refused(port))
            assert read_until_closed(held, timeout_s=5.0)[1], "open connection survived"
        assert proxy.enabled is True
    assert server.get_proxy("web").enabled is True
    assert echo_reply(port, b"back") == b"A:back"


def test_reset_reenables_and_clears_toxics(server: Toxiproxy, echo: EchoServer) -> None:
    proxy = server.create(upstream=echo.address, name="web")
    proxy.add_toxic(type="latency", attributes={"latency": LATENCY_MS})
    proxy.disable()
    assert server.get_proxy("web").enabled is False

    assert server.reset() is True
    assert server.get_proxy("web").enabled is True
    assert proxy.toxics() == {}
    reply, elapsed = roundtrip(port_of(proxy), b"ok", reply_size=4)
    assert reply == b"A:ok"
    assert elapsed < LATENCY_MS / 1000 * 0.75


def test_populate_creates_then_leaves_matching_proxies_alone(
    server: Toxiproxy, echo: EchoServer
) -> None:
    wanted = [
        {"name": "one", "upstream": echo.address, "listen": f"{LOOPBACK}:{free_port()}"},
        {"name": "two", "upstream": echo.address, "listen": f"{LOOPBACK}:{free_port()}"},
    ]
    created = server.populate(wanted)
    assert sorted(proxy.name for proxy in created) == ["one", "two"]
    assert server.populate(wanted) == []
    for entry in wanted:
        port = int(entry["listen"].rpartition(":")[2])
        assert echo_reply(port, b"p") == b"A:p"


def test_destroy_and_destroy_all(server: Toxiproxy, echo: EchoServer) -> None:
    one = server.create(upstream=echo.address, name="one")
    server.create(upstream=echo.address, name="two")
    assert server.destroy(one) is True
    with pytest.raises(NotFound):
        one.destroy()
    server.destroy_all()
    assert server.proxies() == {}
