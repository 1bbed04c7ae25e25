"""PromQL probe against a real Prometheus scraping a real loopback metrics endpoint.

The helpers here (a settable metrics target, a Prometheus + Alertmanager +
webhook receiver started on free loopback ports) are reused by test_alerts.py.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from chaoslib.discovery.discover import discover_activities
from chaoslib.exceptions import ActivityFailed
from chaoslib.provider.python import validate_python_activity

from hubchaos.probes.prometheus import promql_instant
from hubchaos.stack.monitoring import webhook_receiver_program
from tests.conftest import free_port, refused_port
from tests.metrics_server import MetricsServer
from tests.monitoring.conftest import Service, require_binary, start_service, wait_until

# A tiny rule set: one alert that fires a second after the fault, one that stays pending.
RULES = """
groups:
  - name: hubchaos-probe-tests
    rules:
      - alert: HubTestFault
        expr: hubtest_fault > 0
        for: 1s
        labels: {severity: warning}
        annotations: {summary: "test fault"}
      - alert: HubTestSlowFault
        expr: hubtest_fault > 0
        for: 1h
        labels: {severity: info}
"""

ALERTMANAGER = """
route:
  receiver: webhook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: webhook
    webhook_configs:
      - url: {webhook}
        send_resolved: true
"""


class MetricsTarget:
    """A loopback /metrics endpoint whose series a test sets: `target.values["name{..}"] = v`."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}
        self.server = MetricsServer(self._render)
        self.address = self.server.address

    def _render(self) -> bytes:
        lines = [f"{name} {value}" for name, value in list(self.values.items())]
        return ("\n".join(lines) + "\n").encode()

    def close(self) -> None:
        self.server.close()


@dataclass
class Monitoring:
    target: MetricsTarget
    prometheus_url: str
    alertmanager_url: str = ""
    receiver_url: str = ""
    services: list[Service] = field(default_factory=list)

    @property
    def configuration(self) -> dict[str, Any]:
        return {
            "hubchaos_prometheus_url": self.prometheus_url,
            "hubchaos_alertmanager_url": self.alertmanager_url,
            "hubchaos_receiver_url": self.receiver_url,
        }

    def wait_scraped(self, series: str, value: float, timeout_s: float = 20.0) -> None:
        """Until Prometheus has scraped `series` with `value` (after the target changed)."""

        def seen() -> bool:
            reply = httpx.get(
                f"{self.prometheus_url}/api/v1/query", params={"query": series}, timeout=2.0
            ).json()
            result = reply["data"]["result"]
            return bool(result) and float(result[0]["value"][1]) == value

        wait_until(seen, timeout_s=timeout_s, interval_s=0.2, what=f"{series} == {value}")


def start_monitoring(workdir: Path, with_alertmanager: bool) -> Monitoring:
    """Prometheus (and Alertmanager + webhook receiver) scraping a fresh MetricsTarget."""
    target = MetricsTarget()
    target.values["hubtest_fault"] = 0
    prometheus_port = free_port()
    monitoring = Monitoring(target, f"http://127.0.0.1:{prometheus_port}")
    try:
        alerting = ""
        if with_alertmanager:
            receiver_port, alertmanager_port = free_port(), free_port()
            monitoring.receiver_url = f"http://127.0.0.1:{receiver_port}"
            monitoring.alertmanager_url = f"http://127.0.0.1:{alertmanager_port}"
            receiver = start_service(
                "webhook receiver",
                [
                    sys.executable, str(webhook_receiver_program()), "--host",
                    "127.0.0.1", "--port", str(receiver_port),
                    "--out", str(workdir / "notifications.jsonl"),
                ],
                monitoring.receiver_url,
                workdir / "receiver.log",
            )  # fmt: skip
            monitoring.services.append(receiver)
            config = workdir / "alertmanager.yml"
            config.write_text(ALERTMANAGER.format(webhook=f"{monitoring.receiver_url}/alerts"))
            alertmanager = start_service(
                "alertmanager",
                [
                    require_binary("prometheus-alertmanager"),
                    f"--config.file={config}",
                    f"--storage.path={workdir / 'am-data'}",
                    f"--web.listen-address=127.0.0.1:{alertmanager_port}",
                    "--cluster.listen-address=",
                ],
                monitoring.alertmanager_url,
                workdir / "alertmanager.log",
            )
            monitoring.services.append(alertmanager)
            alerting = (
                "alerting:\n  alertmanagers:\n"
                f"    - static_configs: [{{targets: ['127.0.0.1:{alertmanager_port}']}}]\n"
            )
        (workdir / "rules.yml").write_text(RULES)
        (workdir / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
            f"rule_files: ['{workdir / 'rules.yml'}']\n"
            f"{alerting}"
            "scrape_configs:\n"
            f"  - job_name: target\n    static_configs: [{{targets: ['{target.address}']}}]\n"
        )
        prometheus = start_service(
            "prometheus",
            [
                require_binary("prometheus"),
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'prom-data'}",
                f"--web.listen-address=127.0.0.1:{prometheus_port}",
            ],
            monitoring.prometheus_url,
            workdir / "prometheus.log",
        )
        monitoring.services.append(prometheus)
        for service in monitoring.services:
            path = "/healthz" if service.name == "webhook receiver" else "/-/ready"
            service.wait_ready(path, timeout_s=30.0)
        monitoring.wait_scraped("hubtest_fault", 0)
    except BaseException:
        stop_monitoring(monitoring)
        raise
    return monitoring


def stop_monitoring(monitoring: Monitoring) -> None:
    for service in reversed(monitoring.services):
        service.stop()
    monitoring.target.close()


_shared: dict[str, Any] = {}


@pytest.fixture(scope="session")
def monitoring() -> Iterator[Monitoring]:
    """One Prometheus + Alertmanager + receiver for every probe test module of the session.

    Prometheus scrapes a new target only ~5 s after it starts (its discovery
    throttle), so the stack is started once; modules that import this fixture
    share it and the first teardown at the end of the session stops it.
    """
    if "stack" not in _shared:
        workdir = Path(tempfile.mkdtemp(prefix="hubchaos-monitoring-"))
        _shared["workdir"] = workdir
        _shared["stack"] = start_monitoring(workdir, with_alertmanager=True)
    yield _shared["stack"]
    if "stack" in _shared:
        stop_monitoring(_shared.pop("stack"))
        shutil.rmtree(_shared.pop("workdir"), ignore_errors=True)


@pytest.fixture(scope="module")
def prometheus(monitoring: Monitoring) -> Iterator[Monitoring]:
    series = {'hubtest_used{pool="app-1"}': 3, 'hubtest_used{pool="app-2"}': 5, "hubtest_max": 10}
    monitoring.target.values.update(series)
    monitoring.wait_scraped('hubtest_used{pool="app-2"}', 5)
    yield monitoring
    for name in series:
        monitoring.target.values.pop(name, None)


def test_single_value(prometheus: Monitoring) -> None:
    result = promql_instant("sum(hubtest_used)", configuration=prometheus.configuration)

    assert result["result_type"] == "vector"
    assert (result["count"], result["value"]) == (1, 8.0)
    assert result["series"] == [{"labels": {}, "value": 8.0}]


def test_several_series_summarised(prometheus: Monitoring) -> None:
    result = promql_instant("hubtest_used", configuration=prometheus.configuration)

    assert result["count"] == 2
    assert (result["value"], result["min"], result["max"], result["sum"]) == (5.0, 3.0, 5.0, 8.0)
    pools = sorted(s["labels"]["pool"] for s in result["series"])
    assert pools == ["app-1", "app-2"]


def test_value_follows_the_target(prometheus: Monitoring) -> None:
    # A measurement, not a constant: change the target and the probe sees it.
    prometheus.target.values["hubtest_max"] = 4
    prometheus.wait_scraped("hubtest_max", 4)
    try:
        result = promql_instant(
            "max(hubtest_used) / scalar(hubtest_max)", configuration=prometheus.configuration
        )
        assert result["value"] == pytest.approx(1.25)
    finally:
        prometheus.target.values["hubtest_max"] = 10


def test_scalar_result(prometheus: Monitoring) -> None:
    result = promql_instant("scalar(sum(hubtest_used)) * 2", configuration=prometheus.configuration)
    assert (result["result_type"], result["value"]) == ("scalar", 16.0)


def test_empty_result_fails_unless_allowed(prometheus: Monitoring) -> None:
    url = prometheus.prometheus_url
    with pytest.raises(ActivityFailed, match=rf"Prometheus at {url}: query .* returned no data"):
        promql_instant("hubtest_absent", configuration=prometheus.configuration)

    result = promql_instant(
        "hubtest_absent", allow_empty=True, configuration=prometheus.configuration
    )
    assert (result["count"], result["value"]) == (0, None)


def test_rejected_query_names_prometheus_and_its_error(prometheus: Monitoring) -> None:
    with pytest.raises(ActivityFailed, match=r"rejected query 'sum\(': .*parse error") as failure:
        promql_instant("sum(", configuration=prometheus.configuration)
    assert prometheus.prometheus_url in str(failure.value)


def test_unreachable_prometheus_is_named() -> None:
    url = f"http://127.0.0.1:{refused_port()}"
    started = time.monotonic()
    with pytest.raises(ActivityFailed, match=rf"Prometheus at {url} is unreachable"):
        promql_instant("up", timeout_seconds=2, configuration={"hubchaos_prometheus_url": url})
    assert time.monotonic() - started < 5


def test_chaoslib_discovers_and_validates_the_probe() -> None:
    discovered = discover_activities("hubchaos.probes.prometheus", "probe")
    assert [a["name"] for a in discovered] == ["promql_instant"]
    validate_python_activity(
        {
            "type": "probe",
            "name": "pool-usage",
            "provider": {
                "type": "python",
                "module": "hubchaos.probes.prometheus",
                "func": "promql_instant",
                "arguments": {"query": "sum(db_client_connection_count)"},
            },
        }
    )
