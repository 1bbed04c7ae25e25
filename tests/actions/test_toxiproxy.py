"""Toxiproxy actions against a real Toxiproxy-compatible server (embedded, or TOXIPROXY_URL)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from chaoslib.discovery.discover import discover_activities
from chaoslib.exceptions import ActivityFailed
from chaoslib.provider.python import run_python_activity, validate_python_activity

from hubchaos import ledger as fault_ledger
from hubchaos.actions import toxiproxy as tp
from tests.conftest import refused_port
from tests.proxy.conftest import (  # noqa: F401  (fixtures)
    api_client,
    api_fixture,
    toxiproxy,
    toxiproxy_url,
)
from tests.proxy.helpers import (
    EchoServer,
    connection_refused,
    create_proxy,
    listen_port,
    roundtrip,
)

MODULE = "hubchaos.actions.toxiproxy"


@pytest.fixture(autouse=True)
def own_ledger(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's faults go to a ledger of its own, not the checkout's .hubchaos."""
    monkeypatch.setenv("HUBCHAOS_STATE_DIR", str(tmp_path / ".hubchaos"))


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer(lifetime_s=60.0)
    yield server
    server.close()


@pytest.fixture
def proxy(api: httpx.Client, echo: EchoServer) -> dict[str, Any]:
    return create_proxy(api, "hub_db", echo.address)


@pytest.fixture
def config(toxiproxy: str) -> Iterator[dict[str, Any]]:  # noqa: F811
    yield {"hubchaos_toxiproxy_url": toxiproxy}
    # The ledger is process-wide: leave it empty for the next test.
    tp.undo_all()
    assert tp.ledger() == []


def _toxics(api: httpx.Client, proxy: str = "hub_db") -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in api.get(f"/proxies/{proxy}/toxics").json()}


# (action, arguments, expected type, expected attributes)
TOXICS = [
    (
        tp.add_latency,
        {"latency_ms": 250, "jitter_ms": 10},
        "latency",
        {"latency": 250, "jitter": 10},
    ),
    (tp.add_bandwidth, {"rate_kb_per_second": 64}, "bandwidth", {"rate": 64}),
    (tp.add_slow_close, {"delay_ms": 300}, "slow_close", {"delay": 300}),
    (tp.add_timeout, {"timeout_ms": 1500}, "timeout", {"timeout": 1500}),
    (tp.add_reset_peer, {"timeout_ms": 20}, "reset_peer", {"timeout": 20}),
    (
        tp.add_slicer,
        {"average_size": 16, "size_variation": 4, "delay_us": 100},
        "slicer",
        {"average_size": 16, "size_variation": 4, "delay": 100},
    ),
    (tp.add_limit_data, {"max_bytes": 4096}, "limit_data", {"bytes": 4096}),
]


@pytest.mark.parametrize(("action", "arguments", "kind", "attributes"), TOXICS)
def test_each_toxic_is_added_as_asked_and_recorded(
    api: httpx.Client,
    proxy: dict[str, Any],
    config: dict[str, Any],
    action: Any,
    arguments: dict[str, Any],
    kind: str,
    attributes: dict[str, int],
) -> None:
    result = action("hub_db", **arguments, stream="upstream", toxicity=0.5, configuration=config)

    toxic = result["toxic"]
    assert result["proxy"] == "hub_db" and result["toxiproxy"] == config["hubchaos_toxiproxy_url"]
    assert (toxic["name"], toxic["type"], toxic["stream"]) == (f"{kind}_upstream", kind, "upstream")
    assert toxic["toxicity"] == pytest.approx(0.5)
    assert {k: toxic["attributes"][k] for k in attributes} == attributes
    assert _toxics(api)[f"{kind}_upstream"]["attributes"] == toxic["attributes"]
    assert tp.ledger() == [
        {
            "kind": "toxic",
            "toxiproxy": config["hubchaos_toxiproxy_url"],
            "proxy": "hub_db",
            "toxic": f"{kind}_upstream",
        }
    ]


def test_latency_toxic_really_delays_traffic_and_removal_restores_it(
    proxy: dict[str, Any], config: dict[str, Any]
) -> None:
    port = listen_port(proxy)
    assert roundtrip(port)[1] < 0.2

    tp.add_latency("hub_db", 300, name="slow-db", configuration=config)
    reply, seconds = roundtrip(port)
    assert reply == b"ping" and seconds >= 0.28

    result = tp.remove_toxic("hub_db", "slow-db", configuration=config)
    assert result["removed"] == ["slow-db"]
    assert roundtrip(port)[1] < 0.2
    assert tp.ledger() == []


def test_disable_refuses_connections_and_enable_brings_them_back(
    api: httpx.Client, proxy: dict[str, Any], config: dict[str, Any]
) -> None:
    port = listen_port(proxy)

    assert tp.disable_proxy("hub_db", configuration=config)["enabled"] is False
    assert connection_refused(port)
    assert [e["kind"] for e in tp.ledger()] == ["disabled_proxy"]

    assert tp.enable_proxy("hub_db", configuration=config)["enabled"] is True
    assert roundtrip(port)[0] == b"ping"
    assert tp.ledger() == []


def test_undo_all_removes_exactly_what_this_run_added(
    api: httpx.Client, proxy: dict[str, Any], config: dict[str, Any], echo: EchoServer
) -> None:
    # Someone else's toxic and someone else's disabled proxy: not ours to undo.
    api.post("/proxies/hub_db/toxics", json={"name": "theirs", "type": "latency"})
    create_proxy(api, "parked", echo.address, enabled=False)
    create_proxy(api, "hub_web", echo.address)
    tp.add_latency("hub_db", 100, configuration=config)
    tp.add_reset_peer("hub_web", stream="upstream", configuration=config)
    tp.disable_proxy("hub_web", configuration=config)
    tp.disable_proxy("parked", configuration=config)  # already disabled: not recorded

    assert [(e["kind"], e["proxy"]) for e in tp.ledger()] == [
        ("toxic", "hub_db"),
        ("toxic", "hub_web"),
        ("disabled_proxy", "hub_web"),
    ]
    report = tp.undo_all()

    assert len(report["undone"]) == 3
    assert list(_toxics(api)) == ["theirs"]
    assert _toxics(api, "hub_web") == {}
    assert api.get("/proxies/hub_web").json()["enabled"] is True
    assert api.get("/proxies/parked").json()["enabled"] is False
    assert tp.ledger() == []


def test_undo_all_counts_a_toxic_removed_meanwhile_as_undone(
    api: httpx.Client, proxy: dict[str, Any], config: dict[str, Any]
) -> None:
    tp.add_latency("hub_db", 100, configuration=config)
    api.delete("/proxies/hub_db/toxics/latency_downstream")

    assert tp.undo_all()["undone"][0]["toxic"] == "latency_downstream"
    assert tp.ledger() == []


def test_remove_all_toxics_of_one_proxy_or_of_all(
    api: httpx.Client, proxy: dict[str, Any], config: dict[str, Any], echo: EchoServer
) -> None:
    create_proxy(api, "hub_web", echo.address)
    tp.add_latency("hub_db", 10, configuration=config)
    tp.add_bandwidth("hub_db", 100, stream="upstream", configuration=config)
    tp.add_slow_close("hub_web", 10, configuration=config)

    one = tp.remove_all_toxics("hub_db", configuration=config)
    assert sorted(r["toxic"] for r in one["removed"]) == [
        "bandwidth_upstream",
        "latency_downstream",
    ]
    assert _toxics(api) == {} and list(_toxics(api, "hub_web")) == ["slow_close_downstream"]
    assert [e["proxy"] for e in tp.ledger()] == ["hub_web"]

    every = tp.remove_all_toxics(configuration=config)
    assert every["removed"] == [{"proxy": "hub_web", "toxic": "slow_close_downstream"}]
    assert tp.ledger() == []


def test_reset_enables_everything_and_clears_the_ledger(
    api: httpx.Client, proxy: dict[str, Any], config: dict[str, Any]
) -> None:
    tp.add_timeout("hub_db", 0, configuration=config)
    tp.disable_proxy("hub_db", configuration=config)

    assert tp.reset(configuration=config)["reset"] is True
    assert _toxics(api) == {}
    assert api.get("/proxies/hub_db").json()["enabled"] is True
    assert tp.ledger() == []


def test_server_errors_name_the_server_and_the_cause(
    proxy: dict[str, Any], config: dict[str, Any]
) -> None:
    url = config["hubchaos_toxiproxy_url"]
    with pytest.raises(ActivityFailed, match=rf"Toxiproxy at {url}: .*proxy not found"):
        tp.add_latency("no_such_proxy", 100, configuration=config)
    tp.add_latency("hub_db", 100, configuration=config)
    with pytest.raises(ActivityFailed, match="toxic already exists"):
        tp.add_latency("hub_db", 200, configuration=config)
    with pytest.raises(ActivityFailed, match="toxic not found"):
        tp.remove_toxic("hub_db", "never_added", configuration=config)
    # A name is a name, never a path: this must not reach /proxies/hub_db.
    with pytest.raises(ActivityFailed, match="proxy not found"):
        tp.disable_proxy("hub_db/../hub_db", configuration=config)
    assert len(tp.ledger()) == 1


def test_bad_arguments_fail_before_any_call(config: dict[str, Any]) -> None:
    unreachable = {"hubchaos_toxiproxy_url": f"http://127.0.0.1:{refused_port()}"}
    with pytest.raises(ActivityFailed, match="stream must be one of"):
        tp.add_latency("hub_db", 10, stream="sideways", configuration=unreachable)
    with pytest.raises(ActivityFailed, match="toxicity must be between 0 and 1"):
        tp.add_latency("hub_db", 10, toxicity=1.5, configuration=unreachable)
    with pytest.raises(ActivityFailed, match="latency_ms must be at least 0"):
        tp.add_latency("hub_db", -5, configuration=unreachable)
    with pytest.raises(ActivityFailed, match="max_bytes must be an integer"):
        tp.add_limit_data("hub_db", "lots", configuration=unreachable)


def test_unreachable_toxiproxy_is_named_with_the_cause() -> None:
    url = f"http://127.0.0.1:{refused_port()}"
    with pytest.raises(ActivityFailed) as failure:
        tp.disable_proxy("hub_db", configuration={"hubchaos_toxiproxy_url": url})
    assert (
        str(failure.value) == f"Toxiproxy at {url} is unreachable: [Errno 111] Connection refused"
    )
    assert tp.ledger() == []


class _SilentServer:
    """Accepts connections and never answers (a stuck Toxiproxy); stops within its lifetime."""

    def __init__(self, lifetime_s: float = 20.0) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._deadline = time.monotonic() + lifetime_s
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self.listener.close()
        for conn in self.accepted:
            conn.close()


def test_stuck_toxiproxy_fails_within_the_timeout() -> None:
    server = _SilentServer()
    url = f"http://127.0.0.1:{server.port}"
    config = {"hubchaos_toxiproxy_url": url, "hubchaos_toxiproxy_timeout": 0.5}
    try:
        started = time.monotonic()
        with pytest.raises(ActivityFailed) as failure:
            tp.add_latency("hub_db", 100, configuration=config)
        elapsed = time.monotonic() - started
    finally:
        server.close()

    assert server.accepted, "the request never reached the stuck server"
    assert str(failure.value).startswith(f"Toxiproxy at {url} did not answer")
    assert "within 0.5s" in str(failure.value)
    assert 0.4 <= elapsed < 5.0
    # Unanswered, the toxic may be on the server: its undo stays in the ledger.
    assert [entry["toxic"] for entry in tp.ledger()] == ["latency_downstream"]
    for entry in fault_ledger.mine():
        fault_ledger.settle(entry)  # the server is gone: nothing left to undo


def test_hosts_outside_the_blast_radius_are_refused() -> None:
    config = {"hubchaos_toxiproxy_url": "http://192.0.2.10:8474"}
    with pytest.raises(ActivityFailed, match="outside the blast radius"):
        tp.reset(configuration=config)


def test_https_or_path_urls_are_refused_clearly() -> None:
    with pytest.raises(ActivityFailed, match="use http://HOST:PORT"):
        tp.reset(configuration={"hubchaos_toxiproxy_url": "http://127.0.0.1:8474/api"})


def test_chaoslib_discovers_and_validates_every_action() -> None:
    discovered = {a["name"]: a for a in discover_activities(MODULE, "action")}

    assert set(discovered) == set(tp.__all__)
    latency_args = [a["name"] for a in discovered["add_latency"]["arguments"]]
    assert latency_args == [
        "proxy", "latency_ms", "jitter_ms", "stream", "toxicity", "name",
        "configuration", "secrets",
    ]  # fmt: skip
    assert discovered["add_latency"]["arguments"][1] == {"name": "latency_ms", "type": "integer"}
    for activity in discovered.values():
        assert activity["doc"], activity["name"]

    validate_python_activity(
        {
            "type": "action",
            "name": "slow-db",
            "provider": {
                "type": "python",
                "module": MODULE,
                "func": "add_latency",
                "arguments": {"proxy": "hub_db", "latency_ms": 200},
            },
        }
    )


def test_chaoslib_runs_an_action_with_the_experiment_configuration(
    api: httpx.Client, proxy: dict[str, Any], config: dict[str, Any]
) -> None:
    activity = {
        "type": "action",
        "name": "cut-db",
        "provider": {
            "type": "python",
            "module": MODULE,
            "func": "add_timeout",
            "arguments": {"proxy": "hub_db"},
        },
    }
    result = run_python_activity(activity, config, {})

    assert result["toxic"]["type"] == "timeout"
    assert "timeout_downstream" in _toxics(api)
