"""HTTP probes against a real Starlette app under uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
