"""Replicas sharing one port (SO_REUSEPORT): the front door reaches every live replica."""

from __future__ import annotations

import math

import httpx

from tests.conftest import free_port
from tests.hub.conftest import StartApp

REQUESTS = 60


def dashboards_served(app_metric: float) -> float:
    return 0.0 if math.isnan(app_metric) else app_metric  # nan: none yet


def test_new_connections_to_the_shared_port_reach_every_replica(start_app: StartApp) -> None:
    shared = free_port()
    replicas = [start_app(shared_port=shared, pool_min=1, pool_max=2) for _ in range(2)]

    for _ in range(REQUESTS):  # a new connection each time, as a fresh client would open
        with httpx.Client(timeout=10.0) as client:
            assert client.get(f"http://127.0.0.1:{shared}/students/1/dashboard").status_code == 200

    served = [
        dashboards_served(
            app.metric(
                "http_server_request_duration_seconds_count",
                http_route="/students/{id}/dashboard",
                http_request_method="GET",
                http_response_status_code="200",
            )
        )
        for app in replicas
    ]
    assert sum(served) == REQUESTS
    # The kernel hashes each connection: both replicas get a real share, not one alone.
    assert min(served) >= REQUESTS * 0.2, served

    replicas[0].stop()  # a stopped replica leaves the group; the other takes everything
    with httpx.Client(timeout=10.0) as client:
        assert client.get(f"http://127.0.0.1:{shared}/healthz").status_code == 200
