"""Fault-window probes (hubchaos.probes.window) against a real Prometheus on loopback.

The session's monitoring stack (tests/probes/test_prometheus.py) scrapes a
settable metrics target every second and evaluates a tiny rule set:
`HubTestFault` fires a second after `hubtest_fault` goes above 0, while
`HubTestSlowFault` stays pending (its `for` is an hour). Each probe is judged
with the tolerances the experiments give it (a range on `peak`, `$.ok` true),
on a situation that must pass and one that must fail.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from chaoslib.discovery.discover import discover_activities
from chaoslib.exceptions import ActivityFailed
from chaoslib.hypothesis import within_tolerance
from chaoslib.provider.python import validate_python_activity

from hubchaos.ledger import history as fault_history
from hubchaos.probes.window import (
    alert_detected,
    alerts_as_expected,
    peak_at_most,
    peak_since_fault,
)
from tests.conftest import refused_port
from tests.monitoring.conftest import wait_until
from tests.probes.test_prometheus import Monitoring, monitoring  # noqa: F401  (fixture)

# As in experiments/*.yaml: "postgres-connections-stayed-inside-the-budget" and
# "...-alert-fired-within-30s", with a small limit for the test series.
PEAK_AT_MOST_5 = {"type": "range", "target": "peak", "range": [0, 5]}
ALERT_OK = {"type": "jsonpath", "path": "$.ok", "expect": True}


@pytest.fixture
def no_faults() -> Iterator[None]:
    fault_history.clear()
    yield
    fault_history.clear()


@dataclass
class Level:
    """A gauge of the scraped target that only one test sets."""

    stack: Monitoring
    name: str

    @property
    def configuration(self) -> dict[str, Any]:
        return self.stack.configuration

    def set(self, value: float) -> None:
        """Set the gauge and wait until Prometheus has scraped the new value."""
        self.stack.target.values[self.name] = value
        self.stack.wait_scraped(self.name, value)

    def sample_time(self) -> float:
        """When Prometheus scraped the gauge's newest sample (its timestamp)."""
        reply = httpx.get(
            f"{self.stack.prometheus_url}/api/v1/query",
            params={"query": f"timestamp({self.name})"},
            timeout=2.0,
        ).json()
        return float(reply["data"]["result"][0]["value"][1])

    def peak(self, **arguments: Any) -> dict[str, Any]:
        return peak_since_fault(self.name, configuration=self.configuration, **arguments)

    def peak_once_scraped(self, **arguments: Any) -> dict[str, Any]:
        """peak_since_fault once Prometheus holds two points or more in the window."""

        def measured() -> dict[str, Any] | None:
            result = self.peak(**arguments)
            return result if result["points"] >= 2 else None

        return wait_until(measured, timeout_s=15.0, interval_s=0.3, what="points in the window")


_series_numbers = itertools.count()


@pytest.fixture
def level(monitoring: Monitoring, no_faults: None) -> Iterator[Level]:  # noqa: F811
    """A fresh gauge at 3 (scraped): no test sees another's values in its lookback."""
    gauge = Level(monitoring, f"hubtest_window_level_{next(_series_numbers)}")
    gauge.set(3)
    yield gauge
    monitoring.target.values.pop(gauge.name, None)


def _active_alerts(stack: Monitoring) -> list[dict[str, Any]]:
    reply = httpx.get(f"{stack.prometheus_url}/api/v1/alerts", timeout=2.0).json()
    alerts: list[dict[str, Any]] = reply["data"]["alerts"]
    return alerts


def _firing(stack: Monitoring, alert: str) -> bool:
    return any(
        a["labels"]["alertname"] == alert and a["state"] == "firing" for a in _active_alerts(stack)
    )


@pytest.fixture
def quiet(monitoring: Monitoring, no_faults: None) -> Iterator[Monitoring]:  # noqa: F811
    """The stack with the test fault off and no alert active in Prometheus."""
    monitoring.target.values["hubtest_fault"] = 0
    wait_until(lambda: not _active_alerts(monitoring), timeout_s=20.0, what="alerts to clear")
    yield monitoring
    monitoring.target.values["hubtest_fault"] = 0


def _detected(config: dict[str, Any], alert: str, within_s: float) -> dict[str, Any] | None:
    result = alert_detected(alert, within_seconds=within_s, configuration=config)
    return result if result["fired"] else None


# --- peak_since_fault ---------------------------------------------------------------------------


def test_peak_below_the_limit_during_the_fault_passes(level: Level) -> None:
    fault = fault_history.note("test", "window")
    result = level.peak_once_scraped()

    assert result["peak"] == 3.0 and result["no_data"] is False
    assert result["since_fault"] is True
    assert 0 <= result["at_seconds"] <= result["window_seconds"]
    assert result["window_seconds"] == pytest.approx(time.time() - fault.started, abs=2.0)
    assert within_tolerance(PEAK_AT_MOST_5, result) is True


def test_peak_above_the_limit_during_the_fault_fails_even_after_recovery(level: Level) -> None:
    fault_history.note("test", "window")
    level.peak_once_scraped()  # a quiet stretch first: the spike is not at the window's start
    level.set(9)
    level.set(3)  # recovered: a probe of the present would now pass

    result = level.peak()

    assert result["peak"] == 9.0 and result["since_fault"] is True
    assert 0 < result["at_seconds"] <= result["window_seconds"]
    assert within_tolerance(PEAK_AT_MOST_5, result) is False


def _peak_at_most_tolerance() -> dict[str, Any]:
    """As experiments/kubernetes/autoscale-storm.yaml writes it: the ceiling from configuration."""
    return {
        "type": "probe",
        "name": "peak-at-most-the-ceiling",
        "provider": {
            "type": "python",
            "module": "hubchaos.probes.window",
            "func": "peak_at_most",
            "arguments": {"ceiling": "${ceiling}"},
        },
    }


def test_peak_at_most_judges_against_a_ceiling_known_only_at_run_time() -> None:
    config = {"ceiling": 56}  # what a dynamic configuration probe returned
    assert within_tolerance(_peak_at_most_tolerance(), {"peak": 56.0}, config) is True
    assert within_tolerance(_peak_at_most_tolerance(), {"peak": 57.0}, config) is False
    validate_python_activity(_peak_at_most_tolerance())
    with pytest.raises(ActivityFailed, match="not a peak_since_fault result"):
        peak_at_most({"status": 200}, 5)


def test_a_peak_that_ended_before_the_fault_does_not_count(level: Level) -> None:
    level.set(50)
    level.set(3)
    # The window's first point reads the last sample before the fault: let the
    # 3 be scraped again so the 50 lies more than a scrape interval back.
    time.sleep(2.5)
    fault_history.note("test", "window")

    # With a fault, lookback_seconds is ignored: the 50 lies inside these 600 s.
    result = level.peak_once_scraped(lookback_seconds=600)

    assert result["peak"] == 3.0 and result["since_fault"] is True
    assert result["window_seconds"] < 30
    assert within_tolerance(PEAK_AT_MOST_5, result) is True


def test_without_a_fault_the_window_is_not_measured_yet(level: Level) -> None:
    level.set(9)
    level.set(3)

    before = level.peak(lookback_seconds=30)
    # No vacuous "peak 0.0, passed": it says so, and shows the recent past for context.
    assert before["measured"] is False and before["note"] == "not measured yet (no fault)"
    assert before["since_fault"] is False and before["recent_peak"] == 9.0
    assert within_tolerance(PEAK_AT_MOST_5, before) is True

    fault_history.note("test", "window")
    level.set(9)
    during = level.peak(lookback_seconds=30)
    assert during["measured"] is True and during["note"] == "since the first fault (test)"
    assert within_tolerance(PEAK_AT_MOST_5, during) is False


def test_the_newest_sample_is_in_the_window(level: Level) -> None:
    # A window of 30.999 s has its last step 0.999 s before its end: a sample
    # scraped less than that ago falls in the unread tail, every time.
    for value in (11, 12, 13, 14, 15):  # bounded: a busy host may answer late
        level.set(value)  # from here an instant query at "now" answers `value`
        if time.time() - level.sample_time() < 0.8:
            break
    else:
        pytest.fail("could not read the window within 0.8 s of a scrape")
    assert level.peak(lookback_seconds=30.999)["recent_peak"] == value


def test_a_window_without_data_reads_as_zero_and_says_so(
    monitoring: Monitoring,  # noqa: F811
    no_faults: None,
) -> None:
    fault_history.note("test", "window")
    config = monitoring.configuration
    for query in ("hubtest_window_absent", "vector(0) / 0"):  # no series; a 0/0 ratio (NaN)
        result = peak_since_fault(query, configuration=config)
        assert (result["peak"], result["no_data"], result["points"]) == (0.0, True, 0), query
        assert result["at_seconds"] is None


def test_a_rejected_query_names_prometheus_and_its_error(
    monitoring: Monitoring,  # noqa: F811
    no_faults: None,
) -> None:
    url = monitoring.prometheus_url
    with pytest.raises(ActivityFailed, match=r"rejected query 'sum\(': .*parse error") as failure:
        peak_since_fault("sum(", configuration=monitoring.configuration)
    assert url in str(failure.value)


# --- alert_detected -----------------------------------------------------------------------------


def test_no_fault_yet_means_nothing_to_detect(no_faults: None) -> None:
    # Not even asked: Prometheus is unreachable here, and the probe still answers.
    config = {"hubchaos_prometheus_url": f"http://127.0.0.1:{refused_port()}"}
    assert alert_detected("HubTestFault", configuration=config) == {
        "alert": "HubTestFault",
        "fault_injected": False,
        "fired": None,
        "seconds_to_fire": None,
        "measured": False,
        "note": "not measured yet (no fault)",
        "ok": True,
    }


def test_an_alert_that_does_not_fire_fails(quiet: Monitoring) -> None:
    fault_history.note("test", "alert")
    time.sleep(1.5)  # a few evaluations of the rules with the fault off

    result = alert_detected("HubTestFault", within_seconds=30, configuration=quiet.configuration)

    assert result["fault_injected"] is True and result["fault"] == "test"
    assert (result["fired"], result["seconds_to_fire"], result["ok"]) == (False, None, False)
    assert within_tolerance(ALERT_OK, result) is False


def test_an_alert_firing_after_the_fault_passes_in_time_and_fails_late(quiet: Monitoring) -> None:
    config = quiet.configuration
    fault_history.note("test", "alert")
    lag = 2.0
    time.sleep(lag)  # the alert cannot fire sooner than this after the fault
    quiet.target.values["hubtest_fault"] = 1
    wait_until(lambda: _firing(quiet, "HubTestFault"), timeout_s=20.0, what="HubTestFault")

    # The probe reads the ALERTS series on a 1 s grid that starts at the fault,
    # so it may see the firing sample up to a step after /api/v1/alerts does.
    in_time = wait_until(
        lambda: _detected(config, "HubTestFault", 30), timeout_s=10.0, what="ALERTS firing"
    )
    assert in_time["fired"] is True and in_time["ok"] is True
    assert lag <= in_time["seconds_to_fire"] <= 30
    assert within_tolerance(ALERT_OK, in_time) is True

    late = alert_detected("HubTestFault", within_seconds=1, configuration=config)
    assert late["fired"] is True and late["ok"] is False
    assert late["seconds_to_fire"] == in_time["seconds_to_fire"]
    assert within_tolerance(ALERT_OK, late) is False

    # pending is not firing: HubTestSlowFault waits an hour before it fires
    assert any(a["labels"]["alertname"] == "HubTestSlowFault" for a in _active_alerts(quiet))
    pending = alert_detected("HubTestSlowFault", within_seconds=30, configuration=config)
    assert (pending["fired"], pending["ok"]) == (False, False)


# --- alerts_as_expected ------------------------------------------------------------------------


def test_expected_alerts_before_any_fault_are_not_measured_yet(no_faults: None) -> None:
    config = {"hubchaos_prometheus_url": f"http://127.0.0.1:{refused_port()}"}  # never asked
    result = alerts_as_expected(["HubTestFault"], ["HubTestOther"], configuration=config)
    assert result["measured"] is False and result["note"] == "not measured yet (no fault)"
    assert within_tolerance(ALERT_OK, result) is True


def test_the_expected_page_passes_and_a_misleading_one_fails(quiet: Monitoring) -> None:
    config = quiet.configuration
    fault_history.note("test", "alerts")
    time.sleep(1.5)
    nothing_yet = alerts_as_expected(["HubTestFault"], [], configuration=config)
    assert nothing_yet["missing"] == ["HubTestFault"]
    assert within_tolerance(ALERT_OK, nothing_yet) is False

    quiet.target.values["hubtest_fault"] = 1
    wait_until(lambda: _firing(quiet, "HubTestFault"), timeout_s=20.0, what="HubTestFault")

    def fired() -> dict[str, Any] | None:
        result = alerts_as_expected(["HubTestFault"], ["HubTestSlowFault"], configuration=config)
        return result if result["fired"] else None

    right = wait_until(fired, timeout_s=10.0, what="ALERTS firing")
    assert right["missing"] == [] and right["misleading"] == [] and right["late"] == []
    assert 0 < right["fired"]["HubTestFault"] <= 30
    assert "HubTestSlowFault" not in right["fired"]  # pending is not a page
    assert within_tolerance(ALERT_OK, right) is True

    # The same page, declared misleading: the probe fails and names it.
    wrong = alerts_as_expected([], ["HubTestFault"], configuration=config)
    assert wrong["misleading"] == ["HubTestFault"]
    assert within_tolerance(ALERT_OK, wrong) is False

    late = alerts_as_expected(["HubTestFault"], [], within_seconds=0.5, configuration=config)
    assert late["late"] == ["HubTestFault"] and late["ok"] is False


# --- errors and discovery -----------------------------------------------------------------------


def test_an_unreachable_prometheus_is_one_clear_line(no_faults: None) -> None:
    url = f"http://127.0.0.1:{refused_port()}"  # nothing listens: connection refused
    config = {"hubchaos_prometheus_url": url}
    fault_history.note("test", "unreachable")
    probes = {
        "peak_since_fault": lambda: peak_since_fault("up", timeout_seconds=2, configuration=config),
        "alert_detected": lambda: alert_detected("Hub", timeout_seconds=2, configuration=config),
    }
    for name, probe in probes.items():
        started = time.monotonic()
        with pytest.raises(ActivityFailed) as failure:
            probe()
        message = str(failure.value)
        assert re.match(rf"Prometheus at {re.escape(url)} is unreachable: \S", message), name
        assert "\n" not in message, name
        assert time.monotonic() - started < 5, name


def test_chaoslib_discovers_and_validates_both_probes() -> None:
    discovered = discover_activities("hubchaos.probes.window", "probe")
    assert sorted(a["name"] for a in discovered) == [
        "alert_detected",
        "alerts_as_expected",
        "peak_at_most",
        "peak_since_fault",
    ]
    for func, arguments in (
        ("alerts_as_expected", {"must_fire": ["A"], "must_not_fire": ["B"]}),
        ("peak_since_fault", {"query": "sum(pg_stat_activity_count)", "lookback_seconds": 1}),
        ("alert_detected", {"alert": "HubDatabaseDown", "within_seconds": 30}),
    ):
        validate_python_activity(
            {
                "type": "probe",
                "name": func,
                "provider": {
                    "type": "python",
                    "module": "hubchaos.probes.window",
                    "func": func,
                    "arguments": arguments,
                },
            }
        )
