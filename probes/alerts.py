"""Alert probes: which alerts are pending or firing, how fast they fire, whether they arrive.

Sources, from configuration (else the HUBCHAOS_* environment variable, else
the local stack's default): Prometheus `hubchaos_prometheus_url` (rule
evaluation: pending/firing), Alertmanager `hubchaos_alertmanager_url` (what
would be notified: active, not silenced or inhibited) and the webhook receiver
`hubchaos_receiver_url` (what was delivered: `GET /notifications`).

Probes measure, tolerances judge. The waiting probes always return a number
of seconds (time to reach the state, or the whole wait when it never came) and
a boolean, so both a ``range`` tolerance with ``target: seconds`` and one on
the boolean work; pick `timeout_seconds` above the tolerance's upper bound.
A source that cannot be reached at all fails the probe (`ActivityFailed`
naming it); one failed poll among successful ones is tolerated.
"""

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.arguments import as_positive_float
from hubchaos.activity.settings import setting
from hubchaos.polling import poll_until
from hubchaos.probes.prometheus import get_json

__all__ = [
    "alert_delivered",
    "alert_states",
    "no_unexpected_alerts",
    "wait_for_alert",
    "wait_for_alert_resolved",
]

DEFAULT_TIMEOUT_S = 10.0
# One poll never waits longer than this, so a long wait still polls often.
MAX_POLL_REQUEST_S = 5.0


def alert_states(
    include_alertmanager: bool = True,
    timeout_seconds: float = DEFAULT_TIMEOUT_S,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Alerts active now, by name: Prometheus rule state and (optionally) Alertmanager's view.

    Returns ``{"firing": [names], "pending": [names], "firing_count",
    "alerts": {name: {"state", "instances", "active_at"}}, "alertmanager":
    {"active": [names], "suppressed": [names]} or null}``. An alert with one
    firing instance counts as firing.
    """
    timeout_s = as_positive_float("timeout_seconds", timeout_seconds)
    alerts = _prometheus_alerts(configuration, timeout_s)
    summary = _by_name(alerts)
    states: dict[str, Any] = {
        "firing": sorted(n for n, a in summary.items() if a["state"] == "firing"),
        "pending": sorted(n for n, a in summary.items() if a["state"] == "pending"),
        "alerts": summary,
        "alertmanager": None,
    }
    states["firing_count"] = len(states["firing"])
    if include_alertmanager:
        active = _alertmanager_alerts(configuration, timeout_s)
        states["alertmanager"] = {
            "active": sorted({_name(a) for a in active if _am_state(a) == "active"}),
            "suppressed": sorted({_name(a) for a in active if _am_state(a) == "suppressed"}),
        }
    return states


def wait_for_alert(
    name: str,
    timeout_seconds: float = 60.0,
    state: str = "firing",
    poll_interval_seconds: float = 1.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Wait until Prometheus shows alert `name` in `state` ("firing" or "pending").

    Returns ``{"alert", "state", "fired": bool, "seconds", "active_at"}`` where
    `seconds` is the time from this probe's start until the state was seen
    (0 when it already was), or the whole wait when it never was. "pending"
    is also reached by an alert that is already firing.
    """
    if state not in ("firing", "pending"):
        raise ActivityFailed(f"wait_for_alert: state must be 'firing' or 'pending', got {state!r}")
    wanted = {"firing"} if state == "firing" else {"firing", "pending"}
    found: dict[str, Any] = {}

    def reached(alerts: list[dict[str, Any]]) -> bool:
        summary = _by_name(alerts).get(name)
        if summary and summary["state"] in wanted:
            found.update(summary)
            return True
        return False

    fired, seconds = _poll(reached, configuration, timeout_seconds, poll_interval_seconds)
    return {
        "alert": name,
        "state": state,
        "fired": fired,
        "seconds": seconds,
        "active_at": found.get("active_at"),
    }


def wait_for_alert_resolved(
    name: str,
    timeout_seconds: float = 60.0,
    poll_interval_seconds: float = 1.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Wait until alert `name` is neither pending nor firing in Prometheus.

    Returns ``{"alert", "resolved": bool, "seconds"}``: the time from this
    probe's start until it was gone (0 when it already was), or the whole
    wait when it stayed active.
    """

    def gone(alerts: list[dict[str, Any]]) -> bool:
        return name not in _by_name(alerts)

    resolved, seconds = _poll(gone, configuration, timeout_seconds, poll_interval_seconds)
    return {"alert": name, "resolved": resolved, "seconds": seconds}


def alert_delivered(
    name: str,
    timeout_seconds: float = 30.0,
    status: str = "firing",
    since_seconds: float = 120.0,
    receiver_url: str = "",
    poll_interval_seconds: float = 1.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Wait until the webhook receiver got a notification for alert `name` with `status`.

    Only notifications received at most `since_seconds` before this probe
    began count, so an older run's page does not pass for this one. Returns
    ``{"alert", "status", "delivered": bool, "seconds", "notifications",
    "delivery_seconds", "receiver"}``: `seconds` is the wait until it was there
    (0 when it already was) or the whole wait; `notifications` counts the
    matching ones; `delivery_seconds` is how long after the alert started
    (or, for "resolved", ended) the first one arrived: the pipeline's latency.
    """
    if status not in ("firing", "resolved"):
        raise ActivityFailed(
            f"alert_delivered: status must be 'firing' or 'resolved', got {status!r}"
        )
    base = (receiver_url or setting("hubchaos_receiver_url", configuration)).rstrip("/")
    timeout_s = as_positive_float("timeout_seconds", timeout_seconds)
    interval_s = as_positive_float("poll_interval_seconds", poll_interval_seconds, 60.0)
    since = time.time() - as_positive_float("since_seconds", since_seconds, 7 * 86400.0)
    query = {"alertname": name, "status": status, "since": f"{since:.3f}"}
    target = f"webhook receiver at {base}"
    notifications: list[dict[str, Any]] = []

    def received(request_s: float) -> bool:
        reply = get_json(f"{base}/notifications", request_s, target, params=query)
        if not isinstance(reply, list):
            raise ActivityFailed(f"{target}: /notifications answered {reply}")
        notifications[:] = reply
        return bool(reply)

    delivered, seconds = _poll_until(received, timeout_s, interval_s)
    return {
        "alert": name,
        "status": status,
        "delivered": delivered,
        "seconds": seconds,
        "notifications": len(notifications),
        "delivery_seconds": _delivery_seconds(notifications, name, status),
        "receiver": base,
    }


def no_unexpected_alerts(
    allowed: list[str] | None = None,
    include_pending: bool = False,
    timeout_seconds: float = DEFAULT_TIMEOUT_S,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Alerts firing now (Prometheus and Alertmanager) whose name is not in `allowed`.

    Returns ``{"unexpected": [names], "unexpected_count", "active": [names]}``;
    a tolerance such as ``{type: range, range: [0, 0], target: unexpected_count}``
    judges it. Pending alerts count only with `include_pending`.
    """
    timeout_s = as_positive_float("timeout_seconds", timeout_seconds)
    states = {"firing", "pending"} if include_pending else {"firing"}
    active = {
        name
        for name, a in _by_name(_prometheus_alerts(configuration, timeout_s)).items()
        if a["state"] in states
    }
    active |= {
        _name(a) for a in _alertmanager_alerts(configuration, timeout_s) if _am_state(a) == "active"
    }
    unexpected = sorted(active - set(allowed or []))
    return {
        "unexpected": unexpected,
        "unexpected_count": len(unexpected),
        "active": sorted(active),
    }


# --------------------------------------------------------------------------- sources


def _prometheus_alerts(configuration: Configuration, timeout_s: float) -> list[dict[str, Any]]:
    base = setting("hubchaos_prometheus_url", configuration).rstrip("/")
    reply = get_json(f"{base}/api/v1/alerts", timeout_s, f"Prometheus at {base}")
    if not isinstance(reply, dict) or reply.get("status") != "success":
        raise ActivityFailed(f"Prometheus at {base}: /api/v1/alerts failed: {reply}")
    alerts: list[dict[str, Any]] = reply["data"]["alerts"]
    return alerts


def _alertmanager_alerts(configuration: Configuration, timeout_s: float) -> list[dict[str, Any]]:
    base = setting("hubchaos_alertmanager_url", configuration).rstrip("/")
    reply = get_json(f"{base}/api/v2/alerts", timeout_s, f"Alertmanager at {base}")
    if not isinstance(reply, list):
        raise ActivityFailed(f"Alertmanager at {base}: /api/v2/alerts failed: {reply}")
    return reply


def _name(alert: dict[str, Any]) -> str:
    return str(alert.get("labels", {}).get("alertname", ""))


def _am_state(alert: dict[str, Any]) -> str:
    return str(alert.get("status", {}).get("state", ""))


def _by_name(alerts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Prometheus alert instances folded per alert name; firing beats pending."""
    summary: dict[str, dict[str, Any]] = {}
    for alert in alerts:
        name = _name(alert)
        state = str(alert.get("state", ""))
        if state not in ("firing", "pending"):
            continue
        entry = summary.setdefault(name, {"state": state, "instances": 0, "active_at": None})
        entry["instances"] += 1
        if state == "firing":
            entry["state"] = "firing"
        active_at = alert.get("activeAt")
        if active_at and (entry["active_at"] is None or active_at < entry["active_at"]):
            entry["active_at"] = active_at
    return summary


def _poll(
    condition: Callable[[list[dict[str, Any]]], bool],
    configuration: Configuration,
    timeout_seconds: float,
    poll_interval_seconds: float,
) -> tuple[bool, float]:
    """Poll Prometheus alerts until `condition` holds: (held, seconds waited)."""
    timeout_s = as_positive_float("timeout_seconds", timeout_seconds)
    interval_s = as_positive_float("poll_interval_seconds", poll_interval_seconds, 60.0)

    def check(request_s: float) -> bool:
        return condition(_prometheus_alerts(configuration, request_s))

    return _poll_until(check, timeout_s, interval_s)


def _poll_until(
    check: Callable[[float], bool], timeout_s: float, interval_s: float
) -> tuple[bool, float]:
    """Call `check(request_timeout)` until true or `timeout_s` passed: (held, seconds).

    A failing call (ActivityFailed) counts as "not yet"; if no call ever
    succeeded, the last failure is raised: nothing was measured.
    """
    polled = poll_until(
        lambda left: check(min(MAX_POLL_REQUEST_S, max(0.2, left))),
        timeout_s,
        interval_s,
        retry_on=(ActivityFailed,),
    )
    if polled.held:
        # Already so at the first look: there was no wait to report.
        return True, 0.0 if polled.looks == 1 else round(polled.seconds, 3)
    if not polled.answers and polled.error is not None:
        raise polled.error
    return False, round(timeout_s, 3)


def _delivery_seconds(notifications: list[dict[str, Any]], name: str, status: str) -> float | None:
    """Seconds from the alert's start (or end) to the first matching notification's arrival."""
    for notification in notifications:
        for alert in notification.get("alerts", []):
            if _name(alert) == name and alert.get("status") == status:
                stamp = _unix(alert.get("startsAt" if status == "firing" else "endsAt"))
                received_at = notification.get("received_at")
                if stamp and isinstance(received_at, (int, float)):
                    return round(max(0.0, received_at - stamp), 3)
    return None


def _unix(stamp: Any) -> float:
    try:
        return datetime.fromisoformat(str(stamp)).timestamp()
    except (TypeError, ValueError):
        return 0.0
