"""The incident replay tells the post-incident stack from the 2024-01-15 one."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.experiments.conftest import HubStack
from tests.experiments.journal_lookup import after_probe, assert_diagnosed, pages

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXPERIMENT = "incident-replay.yaml"


def test_passes_on_the_fixed_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "fixed")
    assert outcome.code == 0, outcome.explain()
    budget = after_probe(outcome.journal, "postgres-connections-stayed-inside-the-budget")
    assert budget["output"]["since_fault"] is True
    assert budget["output"]["peak"] < 57
    alert = after_probe(outcome.journal, "pool-wait-alert-fired-within-30s")["output"]
    assert alert["fired"] is True and alert["seconds_to_fire"] <= 30
    flood = next(
        r for r in outcome.journal["run"] if r["activity"]["name"] == "flood-database-logins"
    )
    # the role's connection limit, not luck, is what held the flood back
    refusals = flood["output"]["refusals"]
    assert any(r["message"] == 'too many connections for role "learninghub"' for r in refusals), (
        flood["output"]
    )
    assert outcome.journal["hubchaos_safety"]["clean"] is True
    # PostgreSQL stayed up: on-call is told "budget exhausted", never "database down"
    assert pages(outcome.journal)["misleading"] == []
    top = assert_diagnosed(outcome.journal, "db-connection-budget-exhausted")
    assert "hubchaos-flood" in top["summary"]  # who holds the connections


def test_deviates_on_the_incident_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "incident")
    assert outcome.code == 1, outcome.explain()
    assert "postgres-connections-stayed-inside-the-budget" in outcome.stderr
    budget = after_probe(outcome.journal, "postgres-connections-stayed-inside-the-budget")
    assert budget["output"]["peak"] >= 57
    assert outcome.journal["hubchaos_safety"]["clean"] is True
    assert_diagnosed(outcome.journal, "app-pool-misconfigured")


def test_junit_separates_a_pass_from_a_deviation(hub_stack: HubStack) -> None:
    passed = ET.parse(hub_stack.outcome(EXPERIMENT, "fixed").out_dir / "junit.xml")
    deviated = ET.parse(hub_stack.outcome(EXPERIMENT, "incident").out_dir / "junit.xml")
    (case,) = passed.getroot().iter("testcase")
    assert list(case) == [] and case.get("file", "").endswith(EXPERIMENT)
    (case,) = deviated.getroot().iter("testcase")
    (failure,) = list(case)
    assert failure.tag == "failure"
    assert "postgres-connections-stayed-inside-the-budget" in (failure.text or "")
    assert deviated.getroot().find("testsuite").get("failures") == "1"  # type: ignore[union-attr]
