"""End to end: real Prometheus scrapes metrics this test serves, evaluates our
rules, real Alertmanager routes the alert with our configuration, and the
webhook receiver records the firing and the resolved notification.

The metrics come from tiny HTTP endpoints on loopback whose values the test
switches between healthy and faulty, so the test controls exactly when the
fault starts and ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from hubchaos.stack.monitoring import (
    render_alertmanager_config,
    render_prometheus_config,
    rules_files,
)
from tests.conftest import free_port
from tests.monitoring.conftest import (
    Service,
    log_tail,
    require_binary,
    start_receiver,
    start_service,
    wait_until,
)

pytestmark = [pytest.mark.stack, pytest.mark.slow]

ALERT = "HubDBPoolRequestsWaiting"
FIRE_DEADLINE_S = 30.0  # the contract: an experiment sees the alert within 30 s
HEALTHY_HOLD_S = 8.0  # longer than every `for:` so a false positive would show

# What a replica exposes; no `pool` label on the HTTP histogram, so the scrape
# config's target label must supply it.
APP_METRICS = """\
# TYPE db_client_connection_count gauge
db_client_connection_count{{pool="app-1",state="used"}} 1
db_client_connection_count{{pool="app-1",state="idle"}} 4
# TYPE db_client_connection_max gauge
db_client_connection_max{{pool="app-1"}} 10
# TYPE db_client_connection_pending_requests gauge
db_client_connection_pending_requests{{pool="app-1"}} {pending}
# TYPE db_client_connection_timeouts_total counter
db_client_connection_timeouts_total{{pool="app-1"}} 0
# TYPE learninghub_db_up gauge
learninghub_db_up{{pool="app-1"}} 1
# TYPE http_server_request_duration_seconds histogram
http_server_request_duration_seconds_bucket{{http_route="/students/{{id}}/dashboard",http_request_method="GET",http_response_status_code="200",le="0.5"}} 40
http_server_request_duration_seconds_bucket{{http_route="/students/{{id}}/dashboard",http_request_method="GET",http_response_status_code="200",le="+Inf"}} 40
http_server_request_duration_seconds_sum{{http_route="/students/{{id}}/dashboard",http_request_method="GET",http_response_status_code="200"}} 1.2
http_server_request_duration_seconds_count{{http_route="/students/{{id}}/dashboard",http_request_method="GET",http_response_status_code="200"}} 40
"""  # noqa: E501

EXPORTER_METRICS = """\
# TYPE pg_up gauge
pg_up 1
# TYPE pg_settings_max_connections gauge
pg_settings_max_connections{server="127.0.0.1:15432"} 100
# TYPE pg_settings_superuser_reserved_connections gauge
pg_settings_superuser_reserved_connections{server="127.0.0.1:15432"} 3
# TYPE pg_stat_activity_count gauge
pg_stat_activity_count{datname="learninghub",server="127.0.0.1:15432",state="idle"} 6
"""

PROXY_METRICS = """\
# TYPE toxiproxy_proxy_received_bytes_total counter
toxiproxy_proxy_received_bytes_total{proxy="hub_db",listener="127.0.0.1:15433"} 0
"""


class MetricsEndpoint:
    """A /metrics HTTP endpoint on loopback serving whatever text it is given."""

    def __init__(self, text: str) -> None:
        self._text = text.encode()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = endpoint._text if self.path == "/metrics" else b""
                self.send_response(200 if self.path == "/metrics" else 404)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # Prometheus scrapes every second

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def serve(self, text: str) -> None:
        self._text = text.encode()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass
class Pipeline:
    app: MetricsEndpoint
    prometheus: Service
    alertmanager: Service
    receiver: Service

    def services(self) -> list[Service]:
        return [self.prometheus, self.alertmanager, self.receiver]

    def logs(self) -> str:
        return "\n".join(f"--- {s.name}:\n{log_tail(s.log_file)}" for s in self.services())

    def prometheus_alerts(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.prometheus.url}/api/v1/alerts", timeout=5.0)
        response.raise_for_status()
        alerts: list[dict[str, Any]] = response.json()["data"]["alerts"]
        return alerts

    def query(self, promql: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.prometheus.url}/api/v1/query", params={"query": promql}, timeout=5.0
        )
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def notifications(self, **filters: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.receiver.url}/notifications", params=filters, timeout=5.0)
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()
        return entries


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    prometheus_bin = require_binary("prometheus")
    alertmanager_bin = require_binary("prometheus-alertmanager")
    app = MetricsEndpoint(APP_METRICS.format(pending=0))
    exporter = MetricsEndpoint(EXPORTER_METRICS)
    proxy = MetricsEndpoint(PROXY_METRICS)
    started: list[Service] = []
    try:
        receiver, _ = start_receiver(tmp_path)
        started.append(receiver)

        am_port = free_port()
        am_config = tmp_path / "alertmanager.yml"
        am_config.write_text(render_alertmanager_config(webhook_url=f"{receiver.url}/alerts"))
        alertmanager = start_service(
            "alertmanager",
            [
                alertmanager_bin,
                f"--config.file={am_config}",
                f"--storage.path={tmp_path / 'alertmanager-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",  # no gossip: a single local instance
            ],
            f"http://127.0.0.1:{am_port}",
            tmp_path / "alertmanager.log",
        )
        started.append(alertmanager)

        prom_port = free_port()
        prom_config = tmp_path / "prometheus.yml"
        prom_config.write_text(
            render_prometheus_config(
                app_targets=[app.target],
                exporter_target=exporter.target,
                proxy_target=proxy.target,
                alertmanager_target=f"127.0.0.1:{am_port}",
                rules_files=rules_files(),
            )
        )
        prometheus = start_service(
            "prometheus",
            [
                prometheus_bin,
                f"--config.file={prom_config}",
                f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            f"http://127.0.0.1:{prom_port}",
            tmp_path / "prometheus.log",
        )
        started.append(prometheus)

        receiver.wait_ready("/healthz")
        alertmanager.wait_ready("/-/ready")
        prometheus.wait_ready("/-/ready")
        yield Pipeline(app=app, prometheus=prometheus, alertmanager=alertmanager, receiver=receiver)
    finally:
        for service in reversed(started):
            service.stop()
        for endpoint in (app, exporter, proxy):
            endpoint.close()


def test_a_pool_queue_alert_fires_reaches_the_receiver_and_resolves(
    pipeline: Pipeline, record_property: Any
) -> None:
    # 1. Every target is scraped, and the replica carries its pool label.
    def all_targets_up() -> bool:
        ups = pipeline.query("up")
        return len(ups) == 4 and all(sample["value"][1] == "1" for sample in ups)

    wait_until(all_targets_up, timeout_s=20, what="4 scrape targets up")
    (http_series,) = pipeline.query("http_server_request_duration_seconds_count")
    assert http_series["metric"]["pool"] == "app-1"
    assert pipeline.query('{exported_pool!=""}') == []

    # 2. Healthy values: nothing pending, nothing firing, nothing notified.
    hold_until = time.monotonic() + HEALTHY_HOLD_S
    while time.monotonic() < hold_until:
        assert pipeline.prometheus_alerts() == [], pipeline.logs()
        time.sleep(0.5)
    assert pipeline.notifications() == []

    # 3. Fault: requests queue for a connection.
    fault_wall = time.time()
    fault_at = time.monotonic()
    pipeline.app.serve(APP_METRICS.format(pending=3))

    def firing_in_prometheus() -> list[dict[str, Any]]:
        return [
            a
            for a in pipeline.prometheus_alerts()
            if a["labels"]["alertname"] == ALERT and a["state"] == "firing"
        ]

    (alert,) = wait_until(
        firing_in_prometheus, timeout_s=FIRE_DEADLINE_S, what=f"{ALERT} firing in Prometheus"
    )
    fired_after = time.monotonic() - fault_at
    assert alert["labels"] == {
        "alertname": ALERT,
        "cause": "queue",
        "pool": "app-1",
        "severity": "warning",
    }
    # Only the queue alert: the rest of the healthy metrics must not trip anything.
    assert {a["labels"]["alertname"] for a in pipeline.prometheus_alerts()} == {ALERT}

    (firing,) = wait_until(
        lambda: pipeline.notifications(alertname=ALERT, status="firing"),
        timeout_s=FIRE_DEADLINE_S - (time.monotonic() - fault_at),
        what=f"{ALERT} firing notification at the receiver",
    )
    notified_after = firing["received_at"] - fault_wall
    assert firing["receiver"] == "hub-webhook"
    (notified_alert,) = firing["alerts"]
    assert notified_alert["labels"]["pool"] == "app-1"
    assert notified_alert["annotations"]["runbook_url"].endswith("#hubdbpoolrequestswaiting")
    assert notified_after < FIRE_DEADLINE_S

    # 4. Recovery: the queue drains; a resolved notification follows.
    recovered_wall = time.time()
    pipeline.app.serve(APP_METRICS.format(pending=0))
    (resolved,) = wait_until(
        lambda: pipeline.notifications(alertname=ALERT, status="resolved"),
        timeout_s=FIRE_DEADLINE_S,
        what=f"{ALERT} resolved notification at the receiver",
    )
    resolved_after = resolved["received_at"] - recovered_wall
    wait_until(
        lambda: pipeline.prometheus_alerts() == [] or None,
        timeout_s=10,
        what="no alert left active in Prometheus",
    )

    record_property("fired_in_prometheus_s", round(fired_after, 1))
    record_property("notified_s", round(notified_after, 1))
    record_property("resolved_notified_s", round(resolved_after, 1))
    print(
        f"\n{ALERT}: firing in Prometheus {fired_after:.1f} s after the fault, "
        f"notified {notified_after:.1f} s, resolved notified {resolved_after:.1f} s after recovery"
    )
