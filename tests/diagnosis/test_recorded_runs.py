"""The diagnosis of real runs: journals recorded on the local stack, evidence as it was.

Each journal (tests/diagnosis/data, trimmed to what the diagnosis reads: the
timeline samples and the method's actions) comes from `hubchaos run` of a
shipped experiment on one profile. The diagnosis sees neither the file name
nor the profile: the experiment title is removed before it looks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hubchaos.diagnosis import diagnosis_for_journal

DATA = Path(__file__).parent / "data"

EXPECTED_TOP = {
    "incident-replay.fixed": "db-connection-budget-exhausted",
    "incident-replay.incident": "app-pool-misconfigured",
    "traffic-spike.incident": "app-pool-misconfigured",
    "traffic-spike.fixed": "app-pool-exhausted",
    "db-latency.fixed": "db-latency",
    # a CI run whose steady state was busy: the median query p95 before the fault was 275 ms
    "db-latency.fixed-busy": "db-latency",
    "db-outage.fixed": "db-unreachable",
    "reset-peer.fixed": "db-connections-reset",
}


def blind(name: str) -> dict[str, Any]:
    journal: dict[str, Any] = json.loads((DATA / f"{name}.journal.json").read_text())
    journal.pop("experiment", None)  # nothing that names the experiment
    return journal


@pytest.mark.parametrize("run", sorted(EXPECTED_TOP))
def test_the_top_finding_names_the_cause(run: str) -> None:
    findings = diagnosis_for_journal(blind(run))
    assert findings[0]["cause"] == EXPECTED_TOP[run], [
        (f["cause"], f["confidence"]) for f in findings
    ]
    assert findings[0]["evidence"], "a finding without evidence is a guess"
    assert findings[0]["runbook_url"].startswith("environments/monitoring/RUNBOOK.md#")
    confidences = [f["confidence"] for f in findings]
    assert confidences == sorted(confidences, reverse=True)


@pytest.mark.parametrize("run", sorted(EXPECTED_TOP))
def test_the_top_finding_is_known_within_5_s_of_the_first_alert(run: str) -> None:
    journal = blind(run)
    top = diagnosis_for_journal(journal)[0]
    first_alert = min(_first_firing(journal).values())
    assert top["known_after_seconds"] is not None
    assert top["known_after_seconds"] <= first_alert + 5, (top, first_alert)


def test_the_budget_finding_names_who_holds_the_connections() -> None:
    fixed = diagnosis_for_journal(blind("incident-replay.fixed"))[0]
    assert "hubchaos-flood/learninghub" in fixed["summary"]
    assert any("held by: hubchaos-flood/learninghub" in line for line in fixed["evidence"])


def test_misconfigured_pools_show_the_arithmetic() -> None:
    top = diagnosis_for_journal(blind("traffic-spike.incident"))[0]
    assert "app-1 100 + app-2 100 = 200 connections, more than the 57" in top["evidence"][0]
    assert any("53300" in line for line in top["evidence"])


def test_the_same_traffic_on_capped_pools_is_no_budget_problem() -> None:
    causes = {f["cause"] for f in diagnosis_for_journal(blind("traffic-spike.fixed"))}
    assert not causes & {
        "app-pool-misconfigured",
        "db-connection-budget-exhausted",
        "db-unreachable",
    }


def test_a_restart_the_run_asked_for_is_not_a_replica_down() -> None:
    # traffic-spike restarts the replicas in its method and again in its rollbacks
    for run in (
        "traffic-spike.incident",
        "traffic-spike.fixed",
        "db-latency.fixed",
        "db-latency.fixed-busy",
    ):
        assert "replica-down" not in {f["cause"] for f in diagnosis_for_journal(blind(run))}


def _first_firing(journal: dict[str, Any]) -> dict[str, float]:
    from hubchaos.diagnosis.evidence import from_journal

    return from_journal(journal).first_firing()
