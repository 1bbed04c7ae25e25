"""Conformance: the /proxies endpoints, as upstream Toxiproxy 2.x answers them.

Written from the upstream API contract (api.go, proxy.go, README), not from the
hubchaos implementation; with TOXIPROXY_URL set the same tests run against a
real Toxiproxy.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import free_port
from tests.proxy.helpers import (
    LOOPBACK,
    EchoServer,
    api_error,
    connection_refused,
    create_proxy,
    echo_reply,
    listen_port,
    read_exactly,
    read_until_closed,
    wait_until,
)

PROXY_FIELDS = {"name", "listen", "upstream", "enabled", "toxics"}


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with EchoServer(prefix=b"A:") as server:
        yield server


def test_index_is_an_empty_object_without_proxies(api: httpx.Client) -> None:
    response = api.get("/proxies")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {}


def test_create_answers_201_with_the_real_listen_port(api: httpx.Client, echo: EchoServer) -> None:
    response = api.post(
        "/proxies",
        json={"name": "web", "listen": f"{LOOPBACK}:0", "upstream": echo.address},
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    proxy = response.json()
    assert set(proxy) >= PROXY_FIELDS
    assert proxy["name"] == "web"
    assert proxy["upstream"] == echo.address
    assert proxy["enabled"] is True
    assert proxy["toxics"] == []
    port = listen_port(proxy)
    assert port != 0
    assert echo_reply(port, b"hello") == b"A:hello"


def test_create_without_enabled_starts_the_proxy(api: httpx.Client, echo: EchoServer) -> None:
    response = api.post(
        "/proxies", json={"name": "web", "listen": f"{LOOPBACK}:0", "upstream": echo.address}
    )
    assert response.status_code == 201
    assert response.json()["enabled"] is True
    assert api.get("/proxies/web").json()["enabled"] is True


def test_create_disabled_does_not_listen_until_enabled(api: httpx.Client, echo: EchoServer) -> None:
    port = free_port()
    proxy = create_proxy(api, "web", echo.address, listen=f"{LOOPBACK}:{port}", enabled=False)
    assert proxy["enabled"] is False
    assert connection_refused(port)

    enabled = api.patch("/proxies/web", json={"enabled": True})
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["enabled"] is True
    assert echo_reply(port, b"up") == b"A:up"


def test_index_is_keyed_by_name_and_carries_toxics(api: httpx.Client, echo: EchoServer) -> None:
    create_proxy(api, "one", echo.address)
    create_proxy(api, "two", echo.address)
    added = api.post("/proxies/two/toxics", json={"type": "latency", "attributes": {"latency": 5}})
    assert added.status_code == 200, added.text

    proxies = api.get("/proxies").json()
    assert set(proxies) == {"one", "two"}
    for name, proxy in proxies.items():
        assert set(proxy) >= PROXY_FIELDS
        assert proxy["name"] == name
    assert proxies["one"]["toxics"] == []
    assert [toxic["name"] for toxic in proxies["two"]["toxics"]] == ["latency_downstream"]


def test_show_returns_the_proxy_with_its_toxics(api: httpx.Client, echo: EchoServer) -> None:
    created = create_proxy(api, "web", echo.address)
    api.post("/proxies/web/toxics", json={"type": "timeout", "attributes": {"timeout": 10}})
    response = api.get("/proxies/web")
    assert response.status_code == 200
    shown = response.json()
    assert {key: shown[key] for key in ("name", "listen", "upstream", "enabled")} == {
        key: created[key] for key in ("name", "listen", "upstream", "enabled")
    }
    assert [toxic["type"] for toxic in shown["toxics"]] == ["timeout"]


def test_duplicate_name_is_409(api: httpx.Client, echo: EchoServer) -> None:
    first = create_proxy(api, "web", echo.address)
    response = api.post(
        "/proxies", json={"name": "web", "listen": f"{LOOPBACK}:0", "upstream": "127.0.0.1:1"}
    )
    assert response.status_code == 409
    assert api_error(response) == "proxy already exists"
    assert api.get("/proxies/web").json()["upstream"] == first["upstream"]


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({"listen": f"{LOOPBACK}:0", "upstream": "127.0.0.1:1"}, "name"),
        ({"name": "", "upstream": "127.0.0.1:1"}, "name"),
        ({"name": "web", "listen": f"{LOOPBACK}:0"}, "upstream"),
        ({"name": "web", "upstream": ""}, "upstream"),
    ],
)
def test_missing_required_field_is_400(
    api: httpx.Client, body: dict[str, str], missing: str
) -> None:
    response = api.post("/proxies", json=body)
    assert response.status_code == 400
    assert api_error(response) == f"missing required field: {missing}"
    assert api.get("/proxies").json() == {}


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"name": 5, "upstream": "127.0.0.1:1"}',
        b'{"name": "web", "upstream": ["127.0.0.1:1"]}',
        b'{"name": "web", "upstream": "127.0.0.1:1", "enabled": "yes"}',
        b"[]",
        b'"web"',
    ],
)
def test_bad_create_body_is_400(api: httpx.Client, content: bytes) -> None:
    response = api.post("/proxies", content=content)
    assert response.status_code == 400
    assert api_error(response).startswith("bad request body")
    assert api.get("/proxies").json() == {}


def test_create_on_a_busy_port_fails_and_creates_nothing(
    api: httpx.Client, echo: EchoServer
) -> None:
    # Upstream answers 500 with the bind error; what matters to clients is an
    # error body and no half-created proxy.
    response = api.post(
        "/proxies",
        json={"name": "web", "listen": f"{LOOPBACK}:{echo.port}", "upstream": echo.address},
    )
    assert response.status_code >= 400
    assert api_error(response)
    assert api.get("/proxies/web").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/proxies/ghost"),
        ("PATCH", "/proxies/ghost"),
        ("POST", "/proxies/ghost"),
        ("DELETE", "/proxies/ghost"),
        ("GET", "/proxies/ghost/toxics"),
        ("POST", "/proxies/ghost/toxics"),
        ("GET", "/proxies/ghost/toxics/latency_downstream"),
        ("PATCH", "/proxies/ghost/toxics/latency_downstream"),
        ("POST", "/proxies/ghost/toxics/latency_downstream"),
        ("DELETE", "/proxies/ghost/toxics/latency_downstream"),
    ],
)
def test_unknown_proxy_is_404(api: httpx.Client, method: str, path: str) -> None:
    body = {"type": "latency"} if method in ("POST", "PATCH") else None
    response = api.request(method, path, json=body)
    assert response.status_code == 404
    assert api_error(response) == "proxy not found"


def test_patch_disable_refuses_new_and_drops_open_connections(
    api: httpx.Client, echo: EchoServer
) -> None:
    port = listen_port(create_proxy(api, "web", echo.address))
    with socket.create_connection((LOOPBACK, port), timeout=5.0) as held:
        held.sendall(b"before")
        assert read_exactly(held, 8) == b"A:before"

        response = api.patch("/proxies/web", json={"enabled": False})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["enabled"] is False
        assert listen_port(body) == port

        _, closed = read_until_closed(held, timeout_s=5.0)
        assert closed, "an open connection survived disabling the proxy"
    assert wait_until(lambda: connection_refused(port))

    enabled = api.patch("/proxies/web", json={"enabled": True})
    assert enabled.status_code == 200
    assert enabled.json()["enabled"] is True
    assert echo_reply(port, b"after") == b"A:after"


def test_legacy_post_update_behaves_like_patch(api: httpx.Client, echo: EchoServer) -> None:
    port = listen_port(create_proxy(api, "web", echo.address))
    response = api.post("/proxies/web", json={"enabled": False})
    assert response.status_code == 200, response.text
    assert response.json()["enabled"] is False
    assert wait_until(lambda: connection_refused(port))
    response = api.post("/proxies/web", json={"enabled": True})
    assert response.status_code == 200
    assert echo_reply(port, b"x") == b"A:x"


def test_patch_upstream_repoints_the_proxy(api: httpx.Client, echo: EchoServer) -> None:
    port = listen_port(create_proxy(api, "web", echo.address))
    with EchoServer(prefix=b"B:") as other:
        response = api.patch("/proxies/web", json={"upstream": other.address})
        assert response.status_code == 200, response.text
        assert response.json()["upstream"] == other.address
        assert response.json()["enabled"] is True
        new_port = listen_port(response.json())
        assert echo_reply(new_port, b"hi", prefix=b"B:") == b"B:hi"
        assert new_port == port


def test_patch_listen_moves_the_proxy_to_a_real_port(api: httpx.Client, echo: EchoServer) -> None:
    old_port = listen_port(create_proxy(api, "web", echo.address))
    wanted = free_port()
    response = api.patch("/proxies/web", json={"listen": f"{LOOPBACK}:{wanted}"})
    assert response.status_code == 200, response.text
    assert listen_port(response.json()) == wanted
    assert echo_reply(wanted, b"moved") == b"A:moved"
    assert wait_until(lambda: connection_refused(old_port))

    response = api.patch("/proxies/web", json={"listen": f"{LOOPBACK}:0"})
    assert response.status_code == 200
    port = listen_port(response.json())
    assert port not in (0, wanted)
    assert echo_reply(port, b"again") == b"A:again"


def test_empty_patch_keeps_every_field(api: httpx.Client, echo: EchoServer) -> None:
    created = create_proxy(api, "web", echo.address)
    response = api.patch("/proxies/web", json={})
    assert response.status_code == 200
    assert {key: response.json()[key] for key in ("listen", "upstream", "enabled")} == {
        key: created[key] for key in ("listen", "upstream", "enabled")
    }


def test_update_accepts_the_proxy_echoed_back(api: httpx.Client, echo: EchoServer) -> None:
    # Clients often GET a proxy, flip a field and send the whole object back.
    create_proxy(api, "web", echo.address)
    assert api.post("/proxies/web/toxics", json={"type": "latency"}).status_code == 200
    proxy = api.get("/proxies/web").json()
    proxy["enabled"] = False
    response = api.patch("/proxies/web", json=proxy)
    assert response.status_code == 200, response.text
    assert response.json() == proxy


@pytest.mark.parametrize("field", ["listen", "upstream", "enabled"])
def test_null_on_update_means_unchanged(api: httpx.Client, echo: EchoServer, field: str) -> None:
    # Upstream decodes JSON null as "leave the field as it is".
    created = create_proxy(api, "web", echo.address)
    response = api.patch("/proxies/web", json={field: None})
    assert response.status_code == 200, response.text
    assert response.json() == created


def test_null_enabled_on_create_means_enabled(api: httpx.Client, echo: EchoServer) -> None:
    assert create_proxy(api, "web", echo.address, enabled=None)["enabled"] is True


@pytest.mark.parametrize("content", [b"{oops", b'{"enabled": "no"}', b'{"upstream": 7}'])
def test_bad_update_body_is_400_and_changes_nothing(
    api: httpx.Client, echo: EchoServer, content: bytes
) -> None:
    created = create_proxy(api, "web", echo.address)
    response = api.patch("/proxies/web", content=content)
    assert response.status_code == 400
    assert api_error(response).startswith("bad request body")
    after = api.get("/proxies/web").json()
    assert (after["upstream"], after["enabled"]) == (created["upstream"], True)


def test_delete_answers_204_with_no_body_and_stops_listening(
    api: httpx.Client, echo: EchoServer
) -> None:
    port = listen_port(create_proxy(api, "web", echo.address))
    response = api.delete("/proxies/web")
    assert response.status_code == 204
    assert response.content == b""
    assert api.get("/proxies/web").status_code == 404
    assert wait_until(lambda: connection_refused(port))
    again = api.delete("/proxies/web")
    assert again.status_code == 404
    assert api_error(again) == "proxy not found"
