"""Timeline control: one sample of the stack per second, plus every activity's start and end.

Declared in an experiment as::

    controls:
      - name: hubchaos-timeline
        provider: {type: python, module: hubchaos.controls.timeline}

Samples come from Prometheus (pool, database, latency, errors, alerts; it
scrapes every second) and are written into the journal under
`hubchaos_timeline` as ``{"samples": [...], "events": [...], "runbooks": {...}}``, which the
report and the live view read. A sample whose source is unreachable keeps
`null` values: the timeline must never break the run it observes.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from hubchaos.activity.settings import setting
from hubchaos.diagnosis.diagnose import diagnosis_for_journal
from hubchaos.diagnosis.readings import SCALAR_QUERIES, vector_readings
from hubchaos.polling import poll_until

__all__ = [
    "QUERIES",
    "after_activity_control",
    "after_experiment_control",
    "before_activity_control",
    "cleanup_control",
    "configure_control",
]

# name in the sample -> PromQL
QUERIES: dict[str, str] = {
    "pool_used": 'sum(db_client_connection_count{state="used"})',
    "pool_max": "sum(db_client_connection_max)",
    "pool_pending": "sum(db_client_connection_pending_requests)",
    "db_connections": "sum(pg_stat_activity_count)",
    "db_max_connections": "max(pg_settings_max_connections)",
    "p95_latency_seconds": (
        "histogram_quantile(0.95, sum by (le) "
        "(rate(http_server_request_duration_seconds_bucket[5s])))"
    ),
    "error_rate": (
        'sum(rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[5s]))'
        " / sum(rate(http_server_request_duration_seconds_count[5s]))"
    ),
    "requests_per_second": "sum(rate(http_server_request_duration_seconds_count[5s]))",
    **SCALAR_QUERIES,  # the evidence hubchaos.diagnosis reads
}
SAMPLE_INTERVAL_S = 1.0
# After the experiment: sample until HEALTHY_SAMPLES healthy samples in a row, at most this long.
RECOVERY_GRACE_S = 30.0
HEALTHY_SAMPLES = 3
QUERY_TIMEOUT_S = 0.8


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Sampler:
    """A daemon thread polling Prometheus once a second until stopped."""

    def __init__(self, prometheus_url: str) -> None:
        self.prometheus_url = prometheus_url.rstrip("/")
        self.samples: list[dict[str, Any]] = []
        self.runbooks: dict[str, str] = {}  # alert name -> runbook_url annotation
        self.events: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hubchaos-timeline", daemon=True)
        self._client = httpx.Client(timeout=QUERY_TIMEOUT_S)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._client.close()

    def event(self, kind: str, **fields: Any) -> None:
        self.events.append({"time": _now(), "kind": kind, **fields})

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.samples.append(self.sample())
            self._stop.wait(max(0.0, SAMPLE_INTERVAL_S - (time.monotonic() - started)))

    def sample(self) -> dict[str, Any]:
        values: dict[str, Any] = {"time": _now()}
        for name, query in QUERIES.items():
            values[name] = self._scalar(query)
        values.update(vector_readings(self._get))
        values["alerts"] = self._alerts()
        return values

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = self._client.get(f"{self.prometheus_url}{path}", params=params)
            response.raise_for_status()
            return response.json().get("data")
        except (httpx.HTTPError, ValueError):
            return None

    def _scalar(self, query: str) -> float | None:
        data = self._get("/api/v1/query", {"query": query})
        if not data or not data.get("result"):
            return None
        value = float(data["result"][0]["value"][1])
        return None if value != value else round(value, 6)  # NaN: no traffic yet

    def _alerts(self) -> dict[str, str]:
        data = self._get("/api/v1/alerts")
        if not data:
            return {}
        states: dict[str, str] = {}
        for alert in data.get("alerts", []):
            name = alert.get("labels", {}).get("alertname", "?")
            # firing wins over pending when several series share a name
            if states.get(name) != "firing":
                states[name] = alert.get("state", "?")
            runbook = alert.get("annotations", {}).get("runbook_url")
            if runbook:
                self.runbooks[name] = runbook
        return states


_sampler: Sampler | None = None


def configure_control(
    configuration: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None
) -> None:
    global _sampler
    if _sampler is not None:
        _sampler.stop()
    _sampler = Sampler(setting("hubchaos_prometheus_url", configuration))
    _sampler.start()


def before_activity_control(context: dict[str, Any], **kwargs: Any) -> None:
    if _sampler is not None:
        _sampler.event("activity-start", activity=context.get("name"), type=context.get("type"))


def after_activity_control(context: dict[str, Any], state: Any = None, **kwargs: Any) -> None:
    if _sampler is not None:
        status = state.get("status") if isinstance(state, dict) else None
        _sampler.event(
            "activity-end", activity=context.get("name"), type=context.get("type"), status=status
        )


def after_experiment_control(context: dict[str, Any], state: dict[str, Any], **kwargs: Any) -> None:
    global _sampler
    if _sampler is None:
        return
    interrupted = isinstance(state, dict) and state.get("status") == "interrupted"
    if not interrupted:  # an interrupted run must end now, not in 30 s
        _watch_recovery(_sampler)
    _sampler.stop()
    if isinstance(state, dict):
        state["hubchaos_timeline"] = {
            "samples": _sampler.samples,
            "events": _sampler.events,
            "runbooks": _sampler.runbooks,
        }
        state["hubchaos_diagnosis"] = diagnosis_for_journal(state)
    _sampler = None


def _healthy(sample: dict[str, Any]) -> bool:
    return not (sample.get("pool_pending") or 0) and (sample.get("error_rate") or 0) < 0.01


def _watch_recovery(sampler: Sampler) -> None:
    """Keep sampling until the service is healthy again, so the timeline shows the recovery.

    The hypothesis after the method may end before the stack has recovered
    (a deviation stops it at the first failed probe); the report's time to
    recover needs the samples that follow. Bounded by RECOVERY_GRACE_S.
    """

    def healthy_again(_left: float) -> bool:
        recent = sampler.samples[-HEALTHY_SAMPLES:]
        return len(recent) == HEALTHY_SAMPLES and all(_healthy(s) for s in recent)

    sampler.event("recovery-watch-start")
    poll_until(healthy_again, RECOVERY_GRACE_S, SAMPLE_INTERVAL_S)
    sampler.event("recovery-watch-end")


def cleanup_control() -> None:
    global _sampler
    if _sampler is not None:
        _sampler.stop()
        _sampler = None
