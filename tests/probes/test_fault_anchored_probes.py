"""Probes anchored on this run's first fault: a drill's precondition and fresh deliveries.

Real Prometheus and a real webhook receiver (the session's monitoring stack);
notifications are POSTed to the receiver as Alertmanager posts them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from chaoslib.exceptions import ActivityFailed

from hubchaos.ledger import history as fault_history
from hubchaos.probes.baseline import value_at_first_fault
from hubchaos.probes.delivery import delivered_since_fault
from tests.probes.test_prometheus import Monitoring, monitoring  # noqa: F401  (fixture)


@pytest.fixture
def no_faults() -> Iterator[None]:
    fault_history.clear()
    yield
    fault_history.clear()


def _notify(receiver_url: str, alert: str, starts_at: float) -> None:
    stamp = datetime.fromtimestamp(starts_at, UTC).isoformat().replace("+00:00", "Z")
    payload = {
        "status": "firing",
        "alerts": [{"status": "firing", "labels": {"alertname": alert}, "startsAt": stamp}],
    }
    assert httpx.post(f"{receiver_url}/alerts", json=payload, timeout=5).status_code == 200


def test_precondition_is_not_judged_before_any_fault(
    monitoring: Monitoring,  # noqa: F811
    no_faults: None,
) -> None:
    result = value_at_first_fault("vector(5)", 1, configuration=monitoring.configuration)
    assert result == {
        "query": "vector(5)",
        "value": 5.0,
        "max_value": 1.0,
        "at_fault": False,
        "ok": True,
    }


def test_precondition_reads_the_value_when_the_fault_began(
    monitoring: Monitoring,  # noqa: F811
    no_faults: None,
) -> None:
    monitoring.target.values["hubtest_baseline"] = 7
    monitoring.wait_scraped("hubtest_baseline", 7)
    fault_history.note("test", "baseline")
    time.sleep(0.1)
    monitoring.target.values["hubtest_baseline"] = 70  # after the fault: must not count
    monitoring.wait_scraped("hubtest_baseline", 70)
    try:
        config = monitoring.configuration
        held = value_at_first_fault("max(hubtest_baseline)", 10, configuration=config)
        assert held["at_fault"] is True and held["value"] == 7 and held["ok"] is True
        broken = value_at_first_fault("max(hubtest_baseline)", 5, configuration=config)
        assert broken["ok"] is False
        with pytest.raises(ActivityFailed, match="not one number"):
            value_at_first_fault("vector(1) or label_replace(vector(2), 'a', 'b', '', '')", 5,
                                 configuration=config)  # fmt: skip
    finally:
        monitoring.target.values.pop("hubtest_baseline", None)


def test_delivery_needs_no_fault_to_be_ok(
    monitoring: Monitoring,  # noqa: F811
    no_faults: None,
) -> None:
    result = delivered_since_fault("HubTestNever", configuration=monitoring.configuration)
    assert result["ok"] is True and result["fault_injected"] is False


def test_an_alert_started_by_the_fault_counts(
    monitoring: Monitoring,  # noqa: F811
    no_faults: None,
) -> None:
    fault = fault_history.note("test", "delivery")
    _notify(monitoring.receiver_url, "HubTestFresh", fault.started + 2)
    result = delivered_since_fault(
        "HubTestFresh", within_seconds=10, configuration=monitoring.configuration
    )
    assert result["ok"] is True and result["delivered"] is True
    assert result["started_after_seconds"] == 2.0
    assert 0 <= result["seconds_to_deliver"] <= 10


def test_an_alert_left_over_from_before_the_fault_does_not_count(
    monitoring: Monitoring,  # noqa: F811
    no_faults: None,
) -> None:
    fault = fault_history.note("test", "delivery")
    # still firing from an earlier run: re-sent now, but it started a minute ago
    _notify(monitoring.receiver_url, "HubTestStale", fault.started - 60)
    started = time.monotonic()
    result = delivered_since_fault(
        "HubTestStale", within_seconds=2, configuration=monitoring.configuration
    )
    assert result["ok"] is False and result["delivered"] is False
    # it waited for the deadline (2 s after the fault), not longer
    assert time.monotonic() - started < 5


def test_an_unreachable_receiver_is_named(no_faults: None) -> None:
    fault_history.note("test", "delivery")
    with pytest.raises(ActivityFailed, match=re.escape("webhook receiver at http://127.0.0.1:9")):
        delivered_since_fault("HubTest", within_seconds=1, receiver_url="http://127.0.0.1:9")
