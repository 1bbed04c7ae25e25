"""The database link cut for 20 s: fast 503s and a full recovery, or hung pages."""

from __future__ import annotations

import pytest

from tests.experiments.conftest import HubStack
from tests.experiments.journal_lookup import (
    after_probe,
    assert_diagnosed,
    hub_db_proxy,
    method_output,
    pages,
)

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXPERIMENT = "db-outage.yaml"
FAIL_FAST = "requests-failed-fast-while-the-database-was-away"


def test_passes_on_the_fixed_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "fixed")
    assert outcome.code == 0, outcome.explain()
    assert after_probe(outcome.journal, FAIL_FAST)["output"]["peak"] <= 0.01
    alert = after_probe(outcome.journal, "database-down-alert-fired-within-30s")["output"]
    assert alert["fired"] is True and alert["seconds_to_fire"] <= 30
    recovery = after_probe(outcome.journal, "every-replica-serves-again-within-30s")["output"]
    assert recovery["ok"] is True and recovery["seconds"] <= 30
    # the outage was felt: 503s, each with Retry-After, within the 2 s mark
    spike = method_output(outcome.journal, "students-use-dashboards-and-chat")
    assert spike["status_counts"].get("503", 0) > 0
    assert spike["fast_503_share"] >= 0.99
    assert hub_db_proxy(hub_stack)["enabled"]
    assert outcome.journal["hubchaos_safety"]["clean"] is True
    assert pages(outcome.journal)["misleading"] == []
    assert_diagnosed(outcome.journal, "db-unreachable")


def test_deviates_on_the_incident_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "incident")
    assert outcome.code == 1, outcome.explain()
    assert FAIL_FAST in outcome.stderr
    # requests waited for the database instead of failing: longer than the outage's half
    spike = method_output(outcome.journal, "students-use-dashboards-and-chat")
    assert spike["latency_ms"]["max"] >= 10_000
    assert hub_db_proxy(hub_stack)["enabled"]
    assert outcome.journal["hubchaos_safety"]["clean"] is True
    assert_diagnosed(outcome.journal, "db-unreachable")
