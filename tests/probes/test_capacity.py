"""measure_capacity against a real HTTP server on loopback: served, refused and silent."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from chaoslib.exceptions import ActivityFailed
from chaoslib.hypothesis import within_tolerance

from hubchaos.probes.capacity import measure_capacity
from tests.conftest import free_port, refused_port

SERVED = {"type": "range", "target": "served_share", "range": [0.9, 1.0]}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(0.2)
        status = 503 if self.path == "/busy" else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def app_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_serving_app_has_goodput_and_passes(app_url: str) -> None:
    result = measure_capacity(["/ok", "/slow"], 2, 1.0, configuration={"hubchaos_app_url": app_url})
    assert result["served"] == result["requests"] > 2 and result["share_5xx"] == 0
    assert result["goodput_per_second"] > 0
    assert result["p95_ms"] >= 200  # half the requests wait 0.2 s
    assert within_tolerance(SERVED, result) is True


def test_fast_503s_are_users_who_lost_service(app_url: str) -> None:
    result = measure_capacity(["/busy"], 2, 1.0, configuration={"hubchaos_app_url": app_url})
    assert result["served"] == 0 and result["share_5xx"] == 1.0
    assert result["goodput_per_second"] == 0
    assert within_tolerance(SERVED, result) is False


def test_nothing_listening_is_no_answer_not_an_error() -> None:
    config = {"hubchaos_app_url": f"http://127.0.0.1:{refused_port()}"}
    result = measure_capacity(["/ok"], 1, 0.5, timeout=1.0, configuration=config)
    assert result["requests"] == result["no_answer"] > 0 and result["served_share"] == 0.0


def test_bounds_are_enforced() -> None:
    config = {"hubchaos_app_url": "http://127.0.0.1:1"}
    with pytest.raises(ActivityFailed, match=r"concurrency must be 1\.\.64"):
        measure_capacity(["/ok"], 0, 1.0, configuration=config)
    with pytest.raises(ActivityFailed, match="duration_seconds must be in"):
        measure_capacity(["/ok"], 1, 600, configuration=config)
