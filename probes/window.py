"""Probes that judge the whole fault window, not just this instant.

Chaos Toolkit checks tolerances only in the steady-state hypothesis, which
runs before and after the method. What matters in this incident happens
*during* the method: did PostgreSQL hit its connection wall, did dashboards
stall, did the right alert fire in time? Prometheus scrapes every second, so
these probes ask it about the window that started with the first fault this
run injected (hubchaos.faults). With no fault injected yet (the hypothesis
before the method) they look back `lookback_seconds` instead, and an alert
cannot be late for a fault that has not happened.
"""

from __future__ import annotations

import math
import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.settings import setting
from hubchaos.faults import first_fault
from hubchaos.probes.prometheus import get_json

__all__ = ["alert_detected", "peak_since_fault"]

DEFAULT_TIMEOUT_S = 10.0
STEP_S = 1.0


def _window_start(lookback_seconds: float) -> tuple[float, bool]:
    fault = first_fault()
    if fault is None:
        return time.time() - lookback_seconds, False
    return fault.started, True


def _range_values(
    query: str, start: float, end: float, timeout_seconds: float, configuration: Configuration
) -> list[tuple[float, float]]:
    base = setting("hubchaos_prometheus_url", configuration).rstrip("/")
    # Prometheus evaluates start, start + step, ... up to `end`: a whole number of
    # steps past the start, so the newest sample (up to now) is read too.
    end = start + math.ceil((end - start) / STEP_S) * STEP_S
    data = get_json(
        f"{base}/api/v1/query_range",
        timeout_seconds,
        f"Prometheus at {base}",
        params={"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": STEP_S},
    )
    if not isinstance(data, dict) or data.get("status") != "success":
        error = data.get("error") if isinstance(data, dict) else data
        raise ActivityFailed(f"Prometheus at {base} rejected query {query!r}: {error}")
    points: list[tuple[float, float]] = []
    for series in data["data"]["result"]:
        for stamp, text in series.get("values", []):
            value = float(text)
            if math.isfinite(value):
                points.append((float(stamp), value))
    return sorted(points)


def peak_since_fault(
    query: str,
    lookback_seconds: float = 60.0,
    timeout_seconds: float = DEFAULT_TIMEOUT_S,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """The highest value `query` reached since the first fault of this run.

    Returns ``{"query", "peak", "at_seconds" (after the window start),
    "window_seconds", "since_fault", "points", "no_data"}``. A window without
    data (a latency quantile with no traffic at all) has `peak` 0 and
    `no_data` true: nothing was slow because nothing ran, and a range
    tolerance needs a number.
    """
    start, since_fault = _window_start(lookback_seconds)
    end = time.time()
    points = _range_values(query, start, end, timeout_seconds, configuration)
    peak = max(points, key=lambda point: point[1]) if points else None
    return {
        "query": query,
        "peak": 0.0 if peak is None else round(peak[1], 6),
        "at_seconds": None if peak is None else round(max(peak[0] - start, 0.0), 1),
        "window_seconds": round(end - start, 1),
        "since_fault": since_fault,
        "points": len(points),
        "no_data": peak is None,
    }


def alert_detected(
    alert: str,
    within_seconds: float = 30.0,
    timeout_seconds: float = DEFAULT_TIMEOUT_S,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Whether `alert` fired within `within_seconds` of the first fault of this run.

    Returns ``{"alert", "fault_injected", "fired", "seconds_to_fire", "ok"}``.
    `ok` is what a tolerance checks: true when no fault was injected yet (there
    is nothing to detect), otherwise true only if the alert reached `firing`
    in time.
    """
    fault = first_fault()
    if fault is None:
        return {
            "alert": alert,
            "fault_injected": False,
            "fired": None,
            "seconds_to_fire": None,
            "ok": True,
        }
    query = f'max(ALERTS{{alertname="{alert}",alertstate="firing"}})'
    points = _range_values(query, fault.started, time.time(), timeout_seconds, configuration)
    fired_at = next((stamp for stamp, value in points if value >= 1), None)
    seconds = None if fired_at is None else round(max(fired_at - fault.started, 0.0), 1)
    return {
        "alert": alert,
        "fault_injected": True,
        "fault": fault.kind,
        "fired": fired_at is not None,
        "seconds_to_fire": seconds,
        "ok": seconds is not None and seconds <= within_seconds,
    }
