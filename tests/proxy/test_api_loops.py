"""A proxy whose upstream is one of the server's own listeners is refused (400).

Against Toxiproxy 2.12 (measured) the same requests get 201, and one client
connection through such a proxy then loops until descriptors run out; these
tests never send a byte through a looping proxy, so they are safe there too.
"""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.proxy.helpers import LOOPBACK, api_error, create_proxy, external_server, improvement

loop_refused = improvement(
    "a proxy whose upstream is one of the server's listeners is refused with 400",
    upstream="accepted with 201; the first connection loops until descriptors run out",
    asserted=True,
)


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def expect_refused(api: httpx.Client, response: httpx.Response, name: str) -> None:
    if external_server():
        assert response.status_code in (200, 201), response.text
        assert api.delete(f"/proxies/{name}").status_code == 204  # before anyone connects
        return
    assert response.status_code == 400, response.text
    message = api_error(response)
    assert message.startswith("invalid upstream:") and "loop back" in message, message
    assert name not in api.get("/proxies").json()


@loop_refused
@pytest.mark.parametrize("host", [LOOPBACK, "localhost", "0.0.0.0"])
def test_upstream_equal_to_its_own_listen_address(api: httpx.Client, host: str) -> None:
    port = free_loopback_port()
    body = {"name": "self", "listen": f"{LOOPBACK}:{port}", "upstream": f"{host}:{port}"}
    expect_refused(api, api.post("/proxies", json=body), "self")


@loop_refused
@pytest.mark.parametrize("listen_host", [LOOPBACK, "0.0.0.0"])
def test_upstream_equal_to_another_proxys_listener(api: httpx.Client, listen_host: str) -> None:
    first = create_proxy(api, "first", f"{LOOPBACK}:9", listen=f"{listen_host}:0")
    port = int(first["listen"].rpartition(":")[2])
    body = {"name": "second", "listen": f"{LOOPBACK}:0", "upstream": f"{LOOPBACK}:{port}"}
    expect_refused(api, api.post("/proxies", json=body), "second")


@loop_refused
def test_an_update_pointing_at_a_listener_is_refused_and_changes_nothing(
    api: httpx.Client,
) -> None:
    first = create_proxy(api, "first", f"{LOOPBACK}:9")
    second = create_proxy(api, "second", f"{LOOPBACK}:9")
    response = api.patch("/proxies/first", json={"upstream": second["listen"]})
    if external_server():
        assert response.status_code == 200, response.text
        assert api.delete("/proxies/first").status_code == 204
        return
    assert response.status_code == 400, response.text
    assert "loop back" in api_error(response)
    assert api.get("/proxies/first").json() == first


@loop_refused
def test_populate_refuses_a_loop(api: httpx.Client) -> None:
    port = free_loopback_port()
    entry = {"name": "self", "listen": f"{LOOPBACK}:{port}", "upstream": f"{LOOPBACK}:{port}"}
    response = api.post("/populate", json=[entry])
    if external_server():
        assert response.status_code == 201, response.text
        assert api.delete("/proxies/self").status_code == 204
        return
    assert response.status_code == 400, response.text
    assert "loop back" in api_error(response)
    assert api.get("/proxies").json() == {}


def test_an_upstream_on_a_port_nobody_here_listens_on_is_allowed(api: httpx.Client) -> None:
    create_proxy(api, "first", f"{LOOPBACK}:9")
    port = free_loopback_port()
    create_proxy(api, "second", f"{LOOPBACK}:{port}", listen=f"{LOOPBACK}:0")
    assert set(api.get("/proxies").json()) == {"first", "second"}


@loop_refused
def test_a_disabled_proxy_whose_listener_is_the_upstream_is_no_loop_yet(
    api: httpx.Client,
) -> None:
    # Only running listeners count: pointing at a stopped proxy is allowed, but
    # enabling a proxy whose upstream is a running listener is refused.
    first = create_proxy(api, "first", f"{LOOPBACK}:9")
    assert api.patch("/proxies/first", json={"enabled": False}).status_code == 200
    second = create_proxy(api, "second", first["listen"])
    assert api.patch("/proxies/first", json={"upstream": second["listen"]}).status_code == 200
    response = api.patch("/proxies/first", json={"enabled": True})
    if external_server():
        assert response.status_code == 200
        assert api.delete("/proxies/first").status_code == 204
        return
    assert response.status_code == 400, response.text
    assert api.get("/proxies/first").json()["enabled"] is False
