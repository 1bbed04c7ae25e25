"""Facts read from real journals: fault windows, detection, recovery, alert periods."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from hubchaos.journal.facts import (
    RECOVERED_ERROR_RATE,
    RECOVERY_CONFIRM_SAMPLES,
    facts_from_journal,
    parse_time,
)

Journals = Callable[[str], dict[str, Any]]


def _run(journal: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in journal["run"] if r["activity"]["name"] == name)


def _time(value: str) -> datetime:
    parsed = parse_time(value)
    assert parsed is not None
    return parsed


def test_fault_windows_are_the_method_actions_background_ones_included(
    journal: Journals,
) -> None:
    data = journal("incident-replay.fixed")
    facts = facts_from_journal(data)
    windows = {w.name: w for w in facts.fault_windows}
    assert set(windows) == {"flood-database-logins", "spike-dashboard-and-chat"}
    for name, window in windows.items():
        run = _run(data, name)
        assert run["activity"]["background"] is True
        assert (window.start, window.end) == (_time(run["start"]), _time(run["end"]))
    assert facts.fault_start == min(w.start for w in windows.values())
    assert facts.fault_end == max(w.end for w in windows.values())


def test_a_toxic_lasts_from_its_action_until_the_action_that_removes_it(
    journal: Journals,
) -> None:
    data = journal("db-latency.fixed")
    windows = facts_from_journal(data).fault_windows
    latency = [w for w in windows if w.name == "slow-down-the-database-link"]
    assert len(latency) == 1, windows
    assert latency[0].lasting
    assert latency[0].start == _time(_run(data, "slow-down-the-database-link")["start"])
    assert latency[0].end == _time(_run(data, "remove-the-latency")["end"])
    assert latency[0].removed_by == "method remove-the-latency"
    # the action that removed it is not a fault of its own
    assert "remove-the-latency" not in {w.name for w in windows}


def test_a_toxic_nobody_removed_lasts_until_the_run_ends(journal: Journals) -> None:
    data = journal("db-latency.fixed")
    data["run"] = [r for r in data["run"] if r["activity"]["name"] != "remove-the-latency"]
    latency = next(
        w for w in facts_from_journal(data).fault_windows if w.name == "slow-down-the-database-link"
    )
    assert latency.end == _time(data["end"])
    assert latency.removed_by.startswith("nothing")

    toxic = _run(data, "slow-down-the-database-link")["output"]
    data["hubchaos_safety"]["toxiproxy_undone"] = {
        "undone": [{"kind": "toxic", "proxy": toxic["proxy"], "toxic": toxic["toxic"]["name"]}]
    }
    latency = next(
        w for w in facts_from_journal(data).fault_windows if w.name == "slow-down-the-database-link"
    )
    assert latency.removed_by == "the safety control"


def _first_new_firing(data: dict[str, Any], fault_start: datetime) -> datetime:
    """Independently of journal_facts: the first sample after the fault in which an
    alert fires that did not fire in the sample before."""
    previous: dict[str, str] = {}
    for sample in data["hubchaos_timeline"]["samples"]:
        when = _time(sample["time"])
        alerts = sample["alerts"]
        new = [a for a, s in alerts.items() if s == "firing" and previous.get(a) != "firing"]
        if when >= fault_start and new:
            return when
        previous = alerts
    raise AssertionError("no alert fired")


def test_time_to_detect_runs_from_the_first_fault_to_the_first_alert_firing(
    journal: Journals,
) -> None:
    for run in ("incident-replay.fixed", "incident-replay.incident", "db-latency.fixed"):
        data = journal(run)
        facts = facts_from_journal(data)
        assert facts.fault_start is not None
        fired = _first_new_firing(data, facts.fault_start)
        assert facts.seconds_to_detect() == (fired - facts.fault_start).total_seconds()
        assert 0 < (facts.seconds_to_detect() or 0) <= 30, run


def test_an_alert_left_firing_by_an_earlier_run_is_not_a_detection(journal: Journals) -> None:
    data = journal("incident-replay.incident")
    facts = facts_from_journal(data)
    assert facts.active_at_start() == {"HubHighErrorRate": "firing"}
    first = facts.first_detection()
    assert first is not None and first.alert == "HubDBPoolRequestsWaiting"


def _healthy(facts: Any, sample: dict[str, Any]) -> bool:
    errors = facts.value(sample, "error_rate")
    return facts.value(sample, "pool_pending") == 0 and (
        errors is None or errors < RECOVERED_ERROR_RATE
    )


def test_recovery_is_the_first_sample_from_which_on_the_service_stays_healthy(
    journal: Journals,
) -> None:
    data = journal("incident-replay.fixed")
    facts = facts_from_journal(data)
    recovered = facts.recovered_at()
    assert recovered is not None and facts.fault_end is not None
    after = [s for s in facts.samples if _time(s["time"]) >= facts.fault_end]
    from_then = [s for s in after if _time(s["time"]) >= recovered]
    before = [s for s in after if _time(s["time"]) < recovered]
    assert len(from_then) >= RECOVERY_CONFIRM_SAMPLES
    assert all(_healthy(facts, s) for s in from_then)
    assert before and not _healthy(facts, before[-1])  # the 5xx share took a while to fall
    assert facts.seconds_to_recover() == (recovered - facts.fault_end).total_seconds()


def test_a_run_that_ends_with_the_faults_shows_no_recovery(journal: Journals) -> None:
    facts = facts_from_journal(journal("incident-replay.incident"))
    assert facts.fault_end is not None and facts.timeline_end is not None
    assert (facts.timeline_end - facts.fault_end).total_seconds() < 2
    assert facts.recovered_at() is None and facts.seconds_to_recover() is None


def test_no_5xx_series_while_requests_were_served_is_a_zero_error_rate(
    journal: Journals,
) -> None:
    facts = facts_from_journal(journal("incident-replay.incident"))
    served_without_5xx = [
        s for s in facts.samples if s["error_rate"] is None and (s["requests_per_second"] or 0) > 0
    ]
    assert served_without_5xx  # the incident profile answers slowly, never with a 503
    assert all(facts.value(s, "error_rate") == 0.0 for s in served_without_5xx)
    assert facts.value({"error_rate": None, "requests_per_second": None}, "error_rate") is None


def test_alert_periods_cover_exactly_the_samples_in_that_state(journal: Journals) -> None:
    facts = facts_from_journal(journal("incident-replay.fixed"))
    periods = facts.alert_periods("firing")
    assert {p.alert for p in periods} >= {"HubDBPoolRequestsWaiting", "HubDBConnectionsNearLimit"}
    for sample in facts.samples:
        when = _time(sample["time"])
        for alert, state in sample["alerts"].items():
            inside = [
                p
                for p in periods
                if p.alert == alert and p.start <= when and (when < p.end or p.open_at_end)
            ]
            assert bool(inside) == (state == "firing"), (alert, when)


def test_alerts_resolved_at_the_same_sample_are_listed_in_one_order() -> None:
    """Resolved alerts come from a set difference; the report lists them by name, so two
    renderings of one journal are identical whatever the interpreter's hash seed."""
    names = [f"HubAlert{letter}" for letter in "QZAMB"]
    samples = [
        {"time": "2024-01-15T09:00:00+00:00", "alerts": dict.fromkeys(names, "firing")},
        {"time": "2024-01-15T09:00:01+00:00", "alerts": {}},
    ]
    facts = facts_from_journal({"hubchaos_timeline": {"samples": samples}})
    resolved = [c.alert for c in facts.alert_changes if c.state == "resolved"]
    assert resolved == sorted(names)
