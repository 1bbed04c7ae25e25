"""Did this run's fault page on-call: an alert that started after the fault, delivered in time.

`alerts.alert_delivered` counts any notification received in a recent time
span, so an alert still firing from an earlier run (or re-sent on Alertmanager's
repeat interval) would pass for this one. This probe anchors on the first
fault this run injected (hubchaos.ledger.history), like `window.alert_detected`: it
counts only notifications of alerts whose `startsAt` is at or after the fault,
received by the webhook receiver (`hubchaos_receiver_url`) within
`within_seconds` of it. Before any fault there is nothing to deliver and `ok`
is true.
"""

import time
from datetime import datetime
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.arguments import as_positive_float
from hubchaos.activity.blast_radius import ensure_allowed_url
from hubchaos.activity.settings import setting
from hubchaos.ledger.history import first_fault
from hubchaos.polling import poll_until
from hubchaos.probes.prometheus import get_json

__all__ = ["delivered_since_fault"]

POLL_INTERVAL_S = 1.0
# Prometheus and the fault log read the same clock; this only absorbs rounding.
CLOCK_SLACK_S = 1.0


def delivered_since_fault(
    alert: str,
    within_seconds: float = 45.0,
    timeout_seconds: float = 10.0,
    receiver_url: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Whether a firing notification for `alert`, started by this run's fault, arrived in time.

    Polls the receiver until such a notification is there or `within_seconds`
    after the first fault have passed (each request bounded by
    `timeout_seconds`). Returns ``{"alert", "fault_injected", "delivered",
    "seconds_to_deliver" (fault to arrival), "started_after_seconds" (fault
    to the alert's startsAt), "ok"}``.
    """
    fault = first_fault()
    if fault is None:
        return {
            "alert": alert,
            "fault_injected": False,
            "delivered": None,
            "seconds_to_deliver": None,
            "started_after_seconds": None,
            "ok": True,
        }
    within_s = as_positive_float("within_seconds", within_seconds)
    request_s = as_positive_float("timeout_seconds", timeout_seconds, 60.0)
    base = (receiver_url or setting("hubchaos_receiver_url", configuration)).rstrip("/")
    ensure_allowed_url(base, configuration)
    polled = poll_until(
        lambda _left: _first_fresh_delivery(base, alert, fault.started, request_s),
        max(0.0, fault.started + within_s - time.time()),  # the fault's clock is the wall's
        POLL_INTERVAL_S,
        done=lambda delivery: delivery is not None,
    )
    found = polled.value
    received_at, starts_at = found if found else (None, None)
    seconds = None if received_at is None else round(received_at - fault.started, 1)
    return {
        "alert": alert,
        "fault_injected": True,
        "fault": fault.kind,
        "delivered": found is not None,
        "seconds_to_deliver": seconds,
        "started_after_seconds": None if starts_at is None else round(starts_at - fault.started, 1),
        "ok": seconds is not None and seconds <= within_s,
    }


def _first_fresh_delivery(
    base: str, alert: str, since: float, request_s: float
) -> tuple[float, float] | None:
    """(received_at, startsAt) of the first notification of `alert` that began after `since`."""
    target = f"webhook receiver at {base}"
    params = {"alertname": alert, "status": "firing", "since": f"{since:.3f}"}
    reply = get_json(f"{base}/notifications", request_s, target, params=params)
    if not isinstance(reply, list):
        raise ActivityFailed(f"{target}: /notifications answered {reply}")
    for notification in reply:
        received_at = notification.get("received_at")
        if not isinstance(received_at, int | float):
            continue
        for item in notification.get("alerts", []):
            labels = item.get("labels") or {}
            if labels.get("alertname") != alert or item.get("status") != "firing":
                continue
            starts_at = _unix(item.get("startsAt"))
            if starts_at >= since - CLOCK_SLACK_S:
                return float(received_at), starts_at
    return None


def _unix(stamp: Any) -> float:
    try:
        return datetime.fromisoformat(str(stamp)).timestamp()
    except (TypeError, ValueError):
        return 0.0
