"""Conformance: /reset, /populate, /version, /metrics and routing, as upstream Toxiproxy 2.x."""

from __future__ import annotations

import re
import shutil
import subprocess
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
    external_server,
    improvement,
    listen_port,
    wait_until,
)


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with EchoServer(prefix=b"A:") as server:
        yield server


# --- /reset -----------------------------------------------------------------


def test_reset_reenables_proxies_and_removes_toxics(api: httpx.Client, echo: EchoServer) -> None:
    one = listen_port(create_proxy(api, "one", echo.address))
    two = listen_port(create_proxy(api, "two", echo.address))
    for name in ("one", "two"):
        added = api.post(f"/proxies/{name}/toxics", json={"type": "latency"})
        assert added.status_code == 200
    api.post("/proxies/two/toxics", json={"type": "timeout", "stream": "upstream"})
    assert api.patch("/proxies/two", json={"enabled": False}).status_code == 200
    assert wait_until(lambda: connection_refused(two))

    response = api.post("/reset")
    assert response.status_code == 204
    assert response.content == b""

    proxies = api.get("/proxies").json()
    assert set(proxies) == {"one", "two"}
    for proxy in proxies.values():
        assert proxy["enabled"] is True
        assert proxy["toxics"] == []
    assert api.get("/proxies/two/toxics").json() == []
    assert echo_reply(one, b"1") == b"A:1"
    assert echo_reply(two, b"2") == b"A:2"


def test_reset_without_proxies_is_204(api: httpx.Client) -> None:
    response = api.post("/reset")
    assert response.status_code == 204
    assert response.content == b""


# --- /populate --------------------------------------------------------------


def test_populate_creates_proxies_and_answers_201(api: httpx.Client, echo: EchoServer) -> None:
    ports = [free_port(), free_port()]
    response = api.post(
        "/populate",
        json=[
            {"name": "one", "listen": f"{LOOPBACK}:{ports[0]}", "upstream": echo.address},
            {
                "name": "two",
                "listen": f"{LOOPBACK}:{ports[1]}",
                "upstream": echo.address,
                "enabled": False,
            },
        ],
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"proxies"}
    populated = {proxy["name"]: proxy for proxy in body["proxies"]}
    assert set(populated) == {"one", "two"}
    assert populated["one"]["enabled"] is True
    assert populated["two"]["enabled"] is False
    for proxy in populated.values():
        assert proxy["upstream"] == echo.address
        assert proxy["toxics"] == []
    assert echo_reply(ports[0], b"p") == b"A:p"
    assert connection_refused(ports[1])
    assert set(api.get("/proxies").json()) == {"one", "two"}


def test_populate_keeps_an_unchanged_proxy_and_its_toxics(
    api: httpx.Client, echo: EchoServer
) -> None:
    port = free_port()
    entry = {"name": "web", "listen": f"{LOOPBACK}:{port}", "upstream": echo.address}
    assert api.post("/populate", json=[entry]).status_code == 201
    assert api.post("/proxies/web/toxics", json={"type": "latency"}).status_code == 200

    again = api.post("/populate", json=[entry])
    assert again.status_code == 201, again.text
    assert [proxy["name"] for proxy in again.json()["proxies"]] == ["web"]
    shown = api.get("/proxies/web").json()
    assert [toxic["name"] for toxic in shown["toxics"]] == ["latency_downstream"]
    assert echo_reply(port, b"same") == b"A:same"


def test_populate_replaces_a_changed_proxy(api: httpx.Client, echo: EchoServer) -> None:
    port = free_port()
    create_proxy(api, "web", echo.address, listen=f"{LOOPBACK}:{port}")
    assert api.post("/proxies/web/toxics", json={"type": "latency"}).status_code == 200
    with EchoServer(prefix=b"B:") as other:
        response = api.post(
            "/populate",
            json=[{"name": "web", "listen": f"{LOOPBACK}:{port}", "upstream": other.address}],
        )
        assert response.status_code == 201, response.text
        shown = api.get("/proxies/web").json()
        assert shown["upstream"] == other.address
        assert shown["enabled"] is True
        # Upstream replaces the proxy object: its toxics go with the old one.
        assert shown["toxics"] == []
        assert echo_reply(port, b"new", prefix=b"B:") == b"B:new"


def test_populate_with_an_empty_list_is_201(api: httpx.Client) -> None:
    response = api.post("/populate", json=[])
    assert response.status_code == 201
    # Upstream encodes the empty result as null; an empty list is as good.
    assert response.json()["proxies"] in ([], None)


@pytest.mark.parametrize(
    ("entries", "missing"),
    [
        ([{"name": "ok", "upstream": "127.0.0.1:1"}, {"upstream": "127.0.0.1:1"}], "name"),
        ([{"name": "ok", "upstream": "127.0.0.1:1"}, {"name": "bad"}], "upstream"),
    ],
)
def test_populate_validates_every_entry_before_creating_any(
    api: httpx.Client, entries: list[dict[str, str]], missing: str
) -> None:
    for entry in entries:
        entry.setdefault("listen", f"{LOOPBACK}:0")
    response = api.post("/populate", json=entries)
    assert response.status_code == 400
    assert api_error(response).startswith(f"missing required field: {missing}")
    assert api.get("/proxies").json() == {}


@pytest.mark.parametrize("content", [b"[{", b'{"name": "web"}', b'[{"name": 1}]'])
def test_populate_bad_body_is_400(api: httpx.Client, content: bytes) -> None:
    response = api.post("/populate", content=content)
    assert response.status_code == 400
    assert api_error(response).startswith("bad request body")
    assert api.get("/proxies").json() == {}


@improvement(
    "a body with data after its JSON value is refused",
    upstream="the first value is taken and the rest ignored: `null1` populates nothing, 201",
    asserted=True,
)
def test_populate_trailing_data_is_400(api: httpx.Client) -> None:
    response = api.post("/populate", content=b"null1")
    if external_server():
        assert response.status_code == 201, response.text
        assert response.json() == {"proxies": None}  # measured: null, not []
        return
    assert response.status_code == 400
    assert api_error(response).startswith("bad request body")
    assert api.get("/proxies").json() == {}


# --- /version ---------------------------------------------------------------


def test_version_is_json_with_a_version_string(api: httpx.Client) -> None:
    response = api.get("/version")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    version = response.json()["version"]
    assert isinstance(version, str)
    assert re.fullmatch(r"v?\d+\.\d+\.\d+\S*", version), version


# --- /metrics ---------------------------------------------------------------

SAMPLE = re.compile(
    r"(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r"(?:\{(?P<labels>[^}]*)\})?"
    r" (?P<value>[-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|Inf|NaN))"
    r"(?: -?[0-9]+)?"
)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Strict enough Prometheus text parser: every non-comment line must be a sample."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.fullmatch(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        labels = dict(LABEL.findall(match["labels"] or ""))
        samples.append((match["name"], labels, float(match["value"])))
    return samples


def scrape(api: httpx.Client) -> list[tuple[str, dict[str, str], float]]:
    response = api.get("/metrics")
    if response.status_code == 404 and external_server():
        pytest.skip("the external Toxiproxy runs without --proxy-metrics, so has no /metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    if shutil.which("promtool"):
        lint = subprocess.run(
            ["promtool", "check", "metrics"],
            input=response.content,
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert b"error while linting" not in lint.stderr + lint.stdout, lint
    return parse_exposition(response.text)


def test_metrics_count_bytes_per_proxy_and_direction(api: httpx.Client, echo: EchoServer) -> None:
    port = listen_port(create_proxy(api, "web", echo.address))
    payload = b"x" * 1000
    assert echo_reply(port, payload) == b"A:" + payload

    def counted() -> bool:
        totals: dict[tuple[str, str], float] = {}
        for name, labels, value in scrape(api):
            # Series of this proxy only: upstream keeps those of deleted namesakes.
            ours = labels.get("proxy") == "web" and labels.get("upstream") == echo.address
            if ours and name.startswith("toxiproxy_proxy_"):
                totals[(name, labels.get("direction", ""))] = value
        return (
            totals.get(("toxiproxy_proxy_received_bytes_total", "upstream"), 0) >= 1000
            and totals.get(("toxiproxy_proxy_sent_bytes_total", "upstream"), 0) >= 1000
            and totals.get(("toxiproxy_proxy_received_bytes_total", "downstream"), 0) >= 1002
            and totals.get(("toxiproxy_proxy_sent_bytes_total", "downstream"), 0) >= 1002
        )

    assert wait_until(counted, timeout_s=5.0), scrape(api)
    labels = next(
        labels
        for name, labels, _ in scrape(api)
        if name == "toxiproxy_proxy_received_bytes_total"
        and labels.get("proxy") == "web"
        and labels.get("upstream") == echo.address
    )
    assert labels.get("listener", "").endswith(f":{port}")


@improvement(
    "/metrics counts bytes while a connection is open, also counts connections and active "
    "toxics, and is always served",
    upstream="/metrics only with --proxy-metrics (plain-text 404 otherwise); then only "
    "received/sent byte counters, added when a connection ends",
)
def test_metrics_report_connections_and_active_toxics(api: httpx.Client, echo: EchoServer) -> None:
    port = listen_port(create_proxy(api, "web", echo.address))
    assert api.post("/proxies/web/toxics", json={"type": "latency"}).status_code == 200
    assert echo_reply(port, b"c") == b"A:c"

    def per_proxy(fragment: str) -> list[float]:
        return [
            value
            for name, labels, value in scrape(api)
            if labels.get("proxy") == "web" and fragment in name
        ]

    assert wait_until(lambda: any(value >= 1 for value in per_proxy("connection")))
    assert any(value >= 1 for value in per_proxy("toxic")), scrape(api)
    assert api.delete("/proxies/web/toxics/latency_downstream").status_code == 204
    assert all(value == 0 for value in per_proxy("toxic")), scrape(api)


# --- routing ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/nope", "/proxies/web/extra/deep", "/versions"])
def test_unknown_path_is_404(api: httpx.Client, path: str) -> None:
    assert api.get(path).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/proxies"),
        ("PUT", "/proxies"),
        ("GET", "/reset"),
        ("GET", "/populate"),
        ("POST", "/version"),
        ("PUT", "/proxies/web"),
        ("DELETE", "/proxies/web/toxics"),
    ],
)
def test_wrong_method_on_a_known_path_is_405(api: httpx.Client, method: str, path: str) -> None:
    assert api.request(method, path).status_code == 405


@pytest.mark.parametrize("path", ["/version", "/proxies", "/nope"])
def test_head_answers_without_a_body(api: httpx.Client, path: str) -> None:
    # A body after a HEAD answer would be read as the next response on this
    # keep-alive connection.
    head = api.head(path)
    assert head.status_code in (200, 404, 405)
    assert head.content == b""
    for _ in range(2):
        assert api.get("/version").status_code == 200


def test_browser_user_agents_are_refused(api: httpx.Client) -> None:
    # Upstream refuses browsers so a web page cannot drive the API (CSRF).
    response = api.get("/proxies", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"})
    assert response.status_code == 403
    assert api.get("/proxies", headers={"User-Agent": "curl/8.0"}).status_code == 200
