"""200 ms on the database link: the fixed pool fails fast, the incident pool stalls pages."""

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

EXPERIMENT = "db-latency.yaml"
SLOW_SHARE = "dashboards-answer-within-3s-or-fail-fast"


def test_passes_on_the_fixed_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "fixed")
    assert outcome.code == 0, outcome.explain()
    slow = after_probe(outcome.journal, SLOW_SHARE)["output"]
    assert slow["since_fault"] is True and slow["peak"] <= 0.05
    budget = after_probe(outcome.journal, "postgres-connections-stayed-inside-the-budget")
    assert budget["output"]["peak"] < 57
    alert = after_probe(outcome.journal, "pool-wait-alert-fired-within-30s")["output"]
    assert alert["fired"] is True and alert["seconds_to_fire"] <= 30
    # the latency really was there: the pages that were served took over 0.8 s
    spike = method_output(outcome.journal, "students-open-dashboards-and-chat")
    assert spike["status_counts"].get("200", 0) > 0
    assert spike["latency_ms"]["max"] >= 800
    assert hub_db_proxy(hub_stack, "/toxics") == []
    assert outcome.journal["hubchaos_safety"]["clean"] is True
    assert pages(outcome.journal)["misleading"] == []
    assert_diagnosed(outcome.journal, "db-latency")


def test_deviates_on_the_incident_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "incident")
    assert outcome.code == 1, outcome.explain()
    assert SLOW_SHARE in outcome.stderr
    # requests queued behind a pool that grows one slow login at a time
    assert after_probe(outcome.journal, SLOW_SHARE)["output"]["peak"] > 0.05
    assert hub_db_proxy(hub_stack, "/toxics") == []
    assert outcome.journal["hubchaos_safety"]["clean"] is True
    assert_diagnosed(outcome.journal, "db-latency")
