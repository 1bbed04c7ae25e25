"""HTTP probes against a real Starlette app under uvicorn on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from chaoslib.exceptions import ActivityFailed

from hubchaos.probes.http import http_get_status, http_slo
from tests.actions.test_flood_http import SLOW_SECONDS, make_app, serving
from tests.conftest import refused_port


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(make_app()) as url:
        yield url


def test_http_slo_sends_exactly_the_requested_number(base_url: str) -> None:
    result = http_slo(
        url=base_url,
        routes=[{"path": "/ok", "weight": 1}, {"path": "/busy", "weight": 1}],
        requests=60,
        concurrency=4,
    )
    assert result["requests"] == 60 and result["cancelled"] == 0
    assert sum(result["status_counts"].values()) == 60
    assert set(result["status_counts"]) == {"200", "503"}
    assert result["error_rate"] == pytest.approx(result["status_counts"]["503"] / 60, abs=1e-3)
    assert result["fast_503_share"] == 1.0
    assert result["p95_ms"] == result["latency_ms"]["p95"]
    assert result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]
    assert result["kind"] == "http_slo" and result["stopped_by"] is None


def test_http_slo_latency_tracks_a_slow_route(base_url: str) -> None:
    result = http_slo(url=base_url + "/slow", requests=12, concurrency=4)
    assert result["status_counts"] == {"200": 12}
    assert result["p50_ms"] >= SLOW_SECONDS * 1000 * 0.95
    assert result["error_rate"] == 0.0


def test_http_slo_counts_slow_503s_as_not_fast(base_url: str) -> None:
    result = http_slo(url=base_url + "/slow-busy", requests=8, concurrency=4, fast_503_ms=500)
    assert result["status_counts"] == {"503": 8}
    assert result["fast_503_share"] == 0.0 and result["error_rate"] == 1.0


def test_http_slo_stops_at_max_seconds(base_url: str) -> None:
    result = http_slo(url=base_url + "/slow", requests=100_000, concurrency=2, max_seconds=0.6)
    assert result["requests"] < 100
    assert result["duration_seconds"] < 5


def test_http_get_status_reports_code_and_retry_after(base_url: str) -> None:
    ok = http_get_status(url=base_url + "/ok")
    assert ok["status"] == 200 and ok["ok"] is True and ok["error"] is None
    busy = http_get_status(url="/busy", configuration={"hubchaos_app_url": base_url})
    assert busy["url"] == base_url + "/busy"
    assert busy["status"] == 503 and busy["ok"] is False and busy["retry_after"] == "1"


def test_http_get_status_reports_an_unreachable_app_as_a_measurement() -> None:
    down = http_get_status(url=f"http://127.0.0.1:{refused_port()}/healthz", timeout=2)
    assert down["status"] is None and down["ok"] is False
    assert down["error"].startswith("ConnectError")


def test_http_get_status_asks_again_while_nothing_answers() -> None:
    # a port that refuses connections for a moment, then serves: a port-forward
    # being restarted by its keeper
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/readyz"
    once = http_get_status(url=url, timeout=2)
    assert once["status"] is None and once["attempts"] == 1
    serving_later = threading.Thread(target=_answer_once_after, args=(sock, 0.5))
    serving_later.start()
    try:
        again = http_get_status(url=url, timeout=2, attempts=3)
    finally:
        serving_later.join(timeout=10)
        sock.close()
    assert again["status"] == 200 and again["ok"] is True and again["error"] is None
    assert again["attempts"] == 2, again


def test_http_get_status_never_asks_again_after_an_answer(base_url: str) -> None:
    busy = http_get_status(url=base_url + "/busy", attempts=3)
    assert busy["status"] == 503 and busy["attempts"] == 1


def test_http_get_status_gives_up_after_its_attempts() -> None:
    down = http_get_status(url=f"http://127.0.0.1:{refused_port()}/", timeout=2, attempts=2)
    assert down["status"] is None and down["attempts"] == 2
    assert 1.0 <= down["seconds"] < 5, down


def test_http_get_status_refuses_a_bad_attempts_count(base_url: str) -> None:
    with pytest.raises(ActivityFailed, match="argument attempts must be at least 1"):
        http_get_status(url=base_url + "/ok", attempts=0)


def _answer_once_after(sock: socket.socket, seconds: float) -> None:
    time.sleep(seconds)
    sock.listen(1)
    sock.settimeout(10)
    conn, _ = sock.accept()
    with conn:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
