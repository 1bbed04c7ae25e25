"""Alert probes against real Prometheus, Alertmanager and the webhook receiver on loopback.

A settable metrics target drives a tiny rule set (tests/probes/test_prometheus.py):
`HubTestFault` fires one second after `hubtest_fault` goes above 0 and
`HubTestSlowFault` stays pending meanwhile (its `for` is an hour).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from chaoslib.discovery.discover import discover_activities
from chaoslib.exceptions import ActivityFailed
from chaoslib.hypothesis import within_tolerance

from hubchaos.probes.alerts import (
    alert_delivered,
    alert_states,
    no_unexpected_alerts,
    wait_for_alert,
    wait_for_alert_resolved,
)
from tests.conftest import refused_port
from tests.monitoring.conftest import wait_until
from tests.probes.test_prometheus import Monitoring, monitoring  # noqa: F401  (fixture)

FAULT = "HubTestFault"
SLOW = "HubTestSlowFault"


@pytest.fixture(scope="module")
def stack(monitoring: Monitoring) -> Monitoring:  # noqa: F811
    return monitoring


def _prometheus_alert_names(stack: Monitoring) -> set[str]:
    reply = httpx.get(f"{stack.prometheus_url}/api/v1/alerts", timeout=2.0).json()
    return {a["labels"]["alertname"] for a in reply["data"]["alerts"]}


@pytest.fixture
def quiet(stack: Monitoring) -> Monitoring:
    """The stack with the fault cleared and no alert left active in Prometheus."""
    stack.target.values["hubtest_fault"] = 0
    wait_until(lambda: not _prometheus_alert_names(stack), timeout_s=20.0, what="alerts to clear")
    return stack


@pytest.fixture
def faulty(quiet: Monitoring) -> Iterator[Monitoring]:
    quiet.target.values["hubtest_fault"] = 1
    yield quiet
    quiet.target.values["hubtest_fault"] = 0


def test_healthy_stack_reports_no_alert(quiet: Monitoring) -> None:
    config = quiet.configuration

    states = alert_states(configuration=config)
    assert (states["firing"], states["pending"], states["firing_count"]) == ([], [], 0)
    assert states["alertmanager"] == {"active": [], "suppressed": []}

    waited = wait_for_alert(
        FAULT, timeout_seconds=2.5, poll_interval_seconds=0.5, configuration=config
    )
    assert waited == {
        "alert": FAULT, "state": "firing", "fired": False, "seconds": 2.5, "active_at": None,
    }  # fmt: skip

    resolved = wait_for_alert_resolved(FAULT, timeout_seconds=5, configuration=config)
    assert resolved == {"alert": FAULT, "resolved": True, "seconds": 0.0}

    assert no_unexpected_alerts(configuration=config)["unexpected_count"] == 0


def test_fault_fires_reaches_the_receiver_and_resolves(faulty: Monitoring) -> None:
    config = faulty.configuration

    pending = wait_for_alert(
        SLOW, 30, state="pending", poll_interval_seconds=0.2, configuration=config
    )
    fired = wait_for_alert(FAULT, 30, poll_interval_seconds=0.2, configuration=config)
    assert pending["fired"] is True and fired["fired"] is True
    # Scrape (1 s) + evaluation (1 s) + `for: 1s`: a few seconds, well inside the wait.
    assert 0 < pending["seconds"] + fired["seconds"] < 20
    assert fired["active_at"]
    # The shape chaoslib tolerances read: a number under `seconds`, a boolean under `fired`.
    assert within_tolerance({"type": "range", "range": [0, 20], "target": "seconds"}, fired)
    assert within_tolerance({"type": "range", "range": [1, 1], "target": "fired"}, fired)

    still_pending = wait_for_alert(SLOW, 1.5, poll_interval_seconds=0.5, configuration=config)
    assert still_pending["fired"] is False
    assert not within_tolerance(
        {"type": "range", "range": [0, 1], "target": "seconds"}, still_pending
    )

    delivered = alert_delivered(FAULT, 30, poll_interval_seconds=0.2, configuration=config)
    assert delivered["delivered"] is True and delivered["notifications"] >= 1
    assert delivered["receiver"] == faulty.receiver_url
    assert 0 <= delivered["delivery_seconds"] < 20

    states = alert_states(configuration=config)
    assert states["firing"] == [FAULT] and states["pending"] == [SLOW]
    assert states["alerts"][FAULT]["instances"] == 1
    assert states["alertmanager"]["active"] == [FAULT]

    surprise = no_unexpected_alerts(allowed=[], configuration=config)
    assert surprise == {"unexpected": [FAULT], "unexpected_count": 1, "active": [FAULT]}
    assert no_unexpected_alerts(allowed=[FAULT], configuration=config)["unexpected"] == []
    with_pending = no_unexpected_alerts(allowed=[FAULT], include_pending=True, configuration=config)
    assert with_pending["unexpected"] == [SLOW]

    faulty.target.values["hubtest_fault"] = 0
    resolved = wait_for_alert_resolved(FAULT, 30, poll_interval_seconds=0.2, configuration=config)
    assert resolved["resolved"] is True and 0 < resolved["seconds"] < 20
    gone = alert_delivered(
        FAULT, 30, status="resolved", poll_interval_seconds=0.2, configuration=config
    )
    assert gone["delivered"] is True


def test_alert_still_active_is_not_resolved(faulty: Monitoring) -> None:
    config = faulty.configuration
    assert wait_for_alert(FAULT, 30, poll_interval_seconds=0.2, configuration=config)["fired"]

    result = wait_for_alert_resolved(FAULT, 1.5, poll_interval_seconds=0.5, configuration=config)

    assert result == {"alert": FAULT, "resolved": False, "seconds": 1.5}


def test_old_notifications_do_not_count(quiet: Monitoring) -> None:
    # Whatever earlier tests delivered lies outside a one-second window.
    time.sleep(1.0)
    result = alert_delivered(
        FAULT, 1.0, since_seconds=1.0, poll_interval_seconds=0.5, configuration=quiet.configuration
    )
    assert (result["delivered"], result["notifications"], result["seconds"]) == (False, 0, 1.0)


def test_unreachable_sources_fail_naming_them() -> None:
    dead = f"http://127.0.0.1:{refused_port()}"
    config = {
        "hubchaos_prometheus_url": dead,
        "hubchaos_alertmanager_url": dead,
        "hubchaos_receiver_url": dead,
    }
    with pytest.raises(ActivityFailed, match=rf"Prometheus at {dead} is unreachable"):
        alert_states(configuration=config)
    with pytest.raises(ActivityFailed, match=rf"Prometheus at {dead} is unreachable"):
        wait_for_alert(FAULT, 1, poll_interval_seconds=0.5, configuration=config)
    with pytest.raises(ActivityFailed, match=rf"webhook receiver at {dead} is unreachable"):
        alert_delivered(FAULT, 1, poll_interval_seconds=0.5, configuration=config)


def test_alertmanager_down_fails_alert_states_but_not_the_prometheus_view(
    quiet: Monitoring,
) -> None:
    config = {
        **quiet.configuration,
        "hubchaos_alertmanager_url": f"http://127.0.0.1:{refused_port()}",
    }
    with pytest.raises(ActivityFailed, match=r"Alertmanager at .* is unreachable"):
        alert_states(configuration=config)
    assert alert_states(include_alertmanager=False, configuration=config)["alertmanager"] is None


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ActivityFailed, match="state must be 'firing' or 'pending'"):
        wait_for_alert(FAULT, 1, state="resolved")
    with pytest.raises(ActivityFailed, match="status must be 'firing' or 'resolved'"):
        alert_delivered(FAULT, 1, status="pending")
    with pytest.raises(ActivityFailed, match="timeout_seconds must be between"):
        wait_for_alert_resolved(FAULT, timeout_seconds=-1)


def test_chaoslib_discovers_every_alert_probe() -> None:
    discovered = {a["name"]: a for a in discover_activities("hubchaos.probes.alerts", "probe")}
    assert set(discovered) == {
        "alert_delivered", "alert_states", "no_unexpected_alerts", "wait_for_alert",
        "wait_for_alert_resolved",
    }  # fmt: skip
    assert all(a["doc"] for a in discovered.values())
