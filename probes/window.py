"""Probes that judge the whole fault window, not just this instant.

Chaos Toolkit checks tolerances only in the steady-state hypothesis, which
runs before and after the method. What matters in this incident happens
*during* the method: did PostgreSQL hit its connection wall, did dashboards
stall, did the right alert fire in time? Prometheus scrapes every second, so
these probes ask it about the window that started with the first fault this
run injected (hubchaos.ledger.history). With no fault injected yet (the hypothesis
before the method) there is no window: each probe says "not measured yet (no
fault)" (`measured: false`) and passes its tolerance without claiming a
result; `peak_since_fault` still shows the last `lookback_seconds` as
`recent_peak`, for context.
"""

from __future__ import annotations

import math
import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.settings import setting
from hubchaos.ledger.history import first_fault
from hubchaos.probes.prometheus import get_json

__all__ = ["alert_detected", "alerts_as_expected", "peak_since_fault"]

DEFAULT_TIMEOUT_S = 10.0
STEP_S = 1.0
NOT_MEASURED = "not measured yet (no fault)"


def _window_start(lookback_seconds: float) -> tuple[float, bool]:
    fault = first_fault()
    if fault is None:
        return time.time() - lookback_seconds, False
    return fault.started, True


def _range_values(
    query: str, start: float, end: float, timeout_seconds: float, configuration: Configuration
) -> list[tuple[float, float]]:
    """Every finite point of every series of `query` in [start, end], oldest first."""
    series = _range_series(query, start, end, timeout_seconds, configuration)
    return sorted(point for _labels, points in series for point in points)


def _range_series(
    query: str, start: float, end: float, timeout_seconds: float, configuration: Configuration
) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
    """(labels, finite points oldest first) of each series of `query` in [start, end]."""
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
    found: list[tuple[dict[str, str], list[tuple[float, float]]]] = []
    for series in data["data"]["result"]:
        points = [
            (float(stamp), float(text))
            for stamp, text in series.get("values", [])
            if math.isfinite(float(text))
        ]
        found.append((dict(series.get("metric") or {}), sorted(points)))
    return found


def peak_since_fault(
    query: str,
    lookback_seconds: float = 60.0,
    timeout_seconds: float = DEFAULT_TIMEOUT_S,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """The highest value `query` reached since the first fault of this run.

    Returns ``{"query", "peak", "at_seconds" (after the window start),
    "window_seconds", "since_fault", "measured", "note", "points", "no_data"}``.
    A window without data (a latency quantile with no traffic at all) has
    `peak` 0 and `no_data` true: nothing was slow because nothing ran, and a
    range tolerance needs a number. Before any fault there is no window:
    `measured` is false, `note` says "not measured yet (no fault)", `peak` is
    0 so the tolerance holds, and `recent_peak` is the highest value of the
    last `lookback_seconds` (None without data), shown for context only.
    """
    fault = first_fault()
    end = time.time()
    start = fault.started if fault is not None else end - lookback_seconds
    points = _range_values(query, start, end, timeout_seconds, configuration)
    peak = max(points, key=lambda point: point[1]) if points else None
    if fault is None:
        return {
            "query": query,
            "peak": 0.0,
            "recent_peak": None if peak is None else round(peak[1], 6),
            "window_seconds": 0.0,
            "since_fault": False,
            "measured": False,
            "note": NOT_MEASURED,
            "points": 0,
            "no_data": True,
        }
    return {
        "query": query,
        "peak": 0.0 if peak is None else round(peak[1], 6),
        "at_seconds": None if peak is None else round(max(peak[0] - start, 0.0), 1),
        "window_seconds": round(end - start, 1),
        "since_fault": True,
        "measured": True,
        "note": f"since the first fault ({fault.kind})",
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
    is nothing to detect: `measured` false, `note` "not measured yet (no
    fault)"), otherwise true only if the alert reached `firing` in time.
    """
    fault = first_fault()
    if fault is None:
        return {
            "alert": alert,
            "fault_injected": False,
            "fired": None,
            "seconds_to_fire": None,
            "measured": False,
            "note": NOT_MEASURED,
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
        "measured": True,
        "ok": seconds is not None and seconds <= within_seconds,
    }


def alerts_as_expected(
    must_fire: list[str] | None = None,
    must_not_fire: list[str] | None = None,
    within_seconds: float = 30.0,
    timeout_seconds: float = DEFAULT_TIMEOUT_S,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """The pages on-call got since the first fault: the right ones, and no misleading one.

    Every alert in `must_fire` must have reached `firing` within
    `within_seconds` of the first fault; none in `must_not_fire` may have
    fired at any time since (a "database down" page during a connection-budget
    problem sends people the wrong way). An alert already firing when the
    fault began is not this fault's page and counts for neither list.
    Returns ``{"fired": {alert: seconds after the fault}, "missing", "late",
    "misleading", "measured", "note", "ok"}``; a tolerance
    ``{type: jsonpath, path: "$.ok", expect: true}`` judges it. Before any
    fault: `measured` false, `ok` true, nothing asked.
    """
    wanted = [str(name) for name in must_fire or []]
    forbidden = [str(name) for name in must_not_fire or []]
    fault = first_fault()
    if fault is None:
        return {
            "must_fire": wanted,
            "must_not_fire": forbidden,
            "fired": {},
            "missing": [],
            "late": [],
            "misleading": [],
            "measured": False,
            "note": NOT_MEASURED,
            "ok": True,
        }
    fired = _fired_since(fault.started, timeout_seconds, configuration)
    missing = [name for name in wanted if name not in fired]
    late = [name for name in wanted if name in fired and fired[name] > within_seconds]
    misleading = [name for name in forbidden if name in fired]
    return {
        "must_fire": wanted,
        "must_not_fire": forbidden,
        "fired": fired,
        "missing": missing,
        "late": late,
        "misleading": misleading,
        "measured": True,
        "note": f"since the first fault ({fault.kind})",
        "ok": not (missing or late or misleading),
    }


def _fired_since(
    start: float, timeout_seconds: float, configuration: Configuration
) -> dict[str, float]:
    """Each alert that began firing after `start`: seconds from `start`, earliest first."""
    query = 'max by (alertname) (ALERTS{alertstate="firing"})'
    series = _range_series(query, start, time.time(), timeout_seconds, configuration)
    fired: dict[str, float] = {}
    for labels, points in series:
        first = next((stamp for stamp, value in points if value >= 1), None)
        # Firing at the window's first step: it started before the fault, so the
        # fault did not cause it (an earlier run's page still clearing).
        if first is not None and first - start > STEP_S:
            fired[labels.get("alertname", "?")] = round(first - start, 1)
    return dict(sorted(fired.items(), key=lambda item: item[1]))
