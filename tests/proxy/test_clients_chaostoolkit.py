"""The real `chaostoolkit-toxiproxy` activities, unchanged, drive the server end to end.

They are called as Chaos Toolkit calls them: plain functions taking a
`configuration` with `toxiproxy_url` (or `toxiproxy_host`/`toxiproxy_port`),
and through chaoslib's own activity runner.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from chaoslib.activity import ensure_activity_is_valid, run_activity
from chaostoxi.proxy import actions as proxy_actions
from chaostoxi.proxy import probes as proxy_probes
from chaostoxi.toxic import actions as toxic_actions

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
def config(toxiproxy: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    # create/modify_proxy export "<name>_PORT" into os.environ: let monkeypatch undo it.
    for name in ("web", "other"):
        monkeypatch.setenv(f"{name}_PORT", "unset")
    return {"toxiproxy_url": toxiproxy}


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with EchoServer(prefix=b"A:") as server:
        yield server


def create_web(echo: EchoServer, config: dict[str, Any]) -> int:
    assert proxy_actions.create_proxy(
        proxy_name="web",
        upstream_host=LOOPBACK,
        upstream_port=echo.port,
        listen_host=LOOPBACK,
        listen_port=0,
        configuration=config,
    )
    return int(config["web_PORT"])


def test_create_proxy_reports_the_real_port(echo: EchoServer, config: dict[str, Any]) -> None:
    port = create_web(echo, config)
    assert port != 0
    assert proxy_probes.proxy_exist("web", configuration=config) is True
    assert proxy_probes.get_proxy_attribute("web", "upstream", config) == echo.address
    assert proxy_probes.get_proxy_attribute("web", "enabled", config) is True
    assert echo_reply(port, b"hi") == b"A:hi"


def test_host_and_port_configuration_works_too(
    echo: EchoServer, toxiproxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("web_PORT", "unset")
    url = httpx.URL(toxiproxy)
    config: dict[str, Any] = {"toxiproxy_host": url.host, "toxiproxy_port": url.port}
    port = create_web(echo, config)
    assert echo_reply(port, b"hp") == b"A:hp"


def test_creating_an_existing_proxy_fails(echo: EchoServer, config: dict[str, Any]) -> None:
    create_web(echo, config)
    with pytest.raises(AssertionError):
        create_web(echo, config)


def test_disable_and_enable_proxy(echo: EchoServer, config: dict[str, Any]) -> None:
    port = create_web(echo, config)
    with socket.create_connection((LOOPBACK, port), timeout=5.0) as held:
        assert proxy_actions.disable_proxy("web", configuration=config) is True
        assert proxy_probes.get_proxy_attribute("web", "enabled", config) is False
        assert wait_until(lambda: connection_refused(port))
        assert read_until_closed(held, timeout_s=5.0)[1], "open connection survived"
    assert proxy_actions.enable_proxy("web", configuration=config) is True
    assert int(config["web_PORT"]) == port
    assert echo_reply(port, b"on") == b"A:on"


def test_modify_proxy_repoints_the_upstream(echo: EchoServer, config: dict[str, Any]) -> None:
    port = create_web(echo, config)
    with EchoServer(prefix=b"B:") as other:
        assert proxy_actions.modify_proxy(
            "web", upstream_address=other.address, configuration=config
        )
        assert echo_reply(int(config["web_PORT"]), b"m", prefix=b"B:") == b"B:m"
    assert int(config["web_PORT"]) == port


def test_latency_toxic_slows_and_delete_restores(echo: EchoServer, config: dict[str, Any]) -> None:
    port = create_web(echo, config)
    assert toxic_actions.create_latency_toxic("web", "lag", LATENCY_MS, configuration=config)
    reply, elapsed = roundtrip(port, b"slow", reply_size=6)
    assert reply == b"A:slow"
    assert elapsed >= LATENCY_MS / 1000 * 0.95

    assert toxic_actions.delete_toxic("web", "lag", configuration=config) is True
    reply, elapsed = roundtrip(port, b"fast", reply_size=6)
    assert reply == b"A:fast"
    assert elapsed < LATENCY_MS / 1000 * 0.75
    assert toxic_actions.delete_toxic("web", "lag", configuration=config) is False


def test_limiter_toxic_closes_after_the_byte_limit(
    echo: EchoServer, config: dict[str, Any]
) -> None:
    port = create_web(echo, config)
    assert toxic_actions.create_limiter_toxic("web", "cap", bytes_limit=10, configuration=config)
    payload = b"0123456789" * 10
    with socket.create_connection((LOOPBACK, port), timeout=5.0) as sock:
        sock.sendall(payload)
        data, closed = read_until_closed(sock, timeout_s=5.0)
    assert closed
    assert data == (b"A:" + payload)[:10]


ToxicAction = Callable[..., bool]

TOXIC_ACTIONS: list[tuple[ToxicAction, dict[str, int], str, dict[str, int]]] = [
    (
        toxic_actions.create_latency_toxic,
        {"latency": 120, "jitter": 15},
        "latency",
        {"latency": 120, "jitter": 15},
    ),
    (toxic_actions.create_bandwith_degradation_toxic, {"rate": 64}, "bandwidth", {"rate": 64}),
    (
        toxic_actions.create_slow_connection_close_toxic,
        {"delay": 250},
        "slow_close",
        {"delay": 250},
    ),
    (toxic_actions.create_timeout_toxic, {"timeout": 900}, "timeout", {"timeout": 900}),
    (
        toxic_actions.create_slicer_toxic,
        {"average_size": 32, "size_variation": 8, "delay": 100},
        "slicer",
        {"average_size": 32, "size_variation": 8, "delay": 100},
    ),
    (toxic_actions.create_limiter_toxic, {"bytes_limit": 2048}, "limit_data", {"bytes": 2048}),
]


@pytest.mark.parametrize(
    ("action", "kwargs", "toxic_type", "attributes"),
    TOXIC_ACTIONS,
    ids=[entry[2] for entry in TOXIC_ACTIONS],
)
def test_every_toxic_action_creates_the_upstream_toxic(
    api: httpx.Client,
    echo: EchoServer,
    config: dict[str, Any],
    action: ToxicAction,
    kwargs: dict[str, int],
    toxic_type: str,
    attributes: dict[str, int],
) -> None:
    create_web(echo, config)
    assert action("web", "t", configuration=config, **kwargs) is True
    assert api.get("/proxies/web/toxics/t").json() == {
        "name": "t",
        "type": toxic_type,
        "stream": "downstream",
        "toxicity": 1.0,
        "attributes": attributes,
    }


def test_generic_create_toxic_keeps_stream_and_toxicity(
    api: httpx.Client, echo: EchoServer, config: dict[str, Any]
) -> None:
    create_web(echo, config)
    assert toxic_actions.create_toxic(
        for_proxy="web",
        toxic_name="rst",
        toxic_type="reset_peer",
        stream="upstream",
        toxicity=0.5,
        attributes={"timeout": 30},
        configuration=config,
    )
    toxic = api.get("/proxies/web/toxics/rst").json()
    assert (toxic["stream"], toxic["toxicity"], toxic["attributes"]) == (
        "upstream",
        0.5,
        {"timeout": 30},
    )


def test_reset_clears_toxics_and_reenables(
    api: httpx.Client, echo: EchoServer, config: dict[str, Any]
) -> None:
    port = create_web(echo, config)
    assert toxic_actions.create_latency_toxic("web", "lag", LATENCY_MS, configuration=config)
    assert proxy_actions.disable_proxy("web", configuration=config)
    assert proxy_actions.reset(configuration=config) is True
    assert api.get("/proxies/web/toxics").json() == []
    assert proxy_probes.get_proxy_attribute("web", "enabled", config) is True
    assert echo_reply(port, b"r") == b"A:r"


def test_delete_proxy(echo: EchoServer, config: dict[str, Any]) -> None:
    port = create_web(echo, config)
    assert proxy_actions.delete_proxy("web", configuration=config) is None
    assert proxy_probes.proxy_exist("web", configuration=config) is False
    assert proxy_probes.get_proxy_attribute("web", "enabled", config) is None
    assert wait_until(lambda: connection_refused(port))


def test_activities_run_through_chaoslib(echo: EchoServer, config: dict[str, Any]) -> None:
    create_web(echo, config)
    add = {
        "type": "action",
        "name": "slow-down-web",
        "provider": {
            "type": "python",
            "module": "chaostoxi.toxic.actions",
            "func": "create_latency_toxic",
            "arguments": {"for_proxy": "web", "toxic_name": "lag", "latency": LATENCY_MS},
        },
    }
    probe = {
        "type": "probe",
        "name": "web-latency-attribute",
        "provider": {
            "type": "python",
            "module": "chaostoxi.proxy.probes",
            "func": "get_proxy_attribute",
            "arguments": {"proxy_name": "web", "attribute": "toxics"},
        },
    }
    for activity in (add, probe):
        ensure_activity_is_valid(activity)
    assert run_activity(add, config, {}) is True
    toxics = run_activity(probe, config, {})
    assert [(toxic["name"], toxic["attributes"]["latency"]) for toxic in toxics] == [
        ("lag", LATENCY_MS)
    ]
    reply, elapsed = roundtrip(int(config["web_PORT"]), b"ctk", reply_size=5)
    assert reply == b"A:ctk"
    assert elapsed >= LATENCY_MS / 1000 * 0.95
