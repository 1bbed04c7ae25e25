"""Every database connection reset for 15 s: broken ones discarded, none leaked."""

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

EXPERIMENT = "reset-peer.yaml"
FAIL_FAST = "requests-failed-fast-while-connections-were-reset"


def test_passes_on_the_fixed_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "fixed")
    assert outcome.code == 0, outcome.explain()
    assert after_probe(outcome.journal, FAIL_FAST)["output"]["peak"] <= 0.01
    leaks = after_probe(outcome.journal, "no-connection-leaked")["output"]
    assert leaks["ok"] is True and leaks["leaks"] == []
    assert all(r["used"] == 0 for r in leaks["replicas"])
    alert = after_probe(outcome.journal, "database-down-alert-fired-within-30s")["output"]
    assert alert["fired"] is True
    # the resets were felt: requests failed while the link was broken
    spike = method_output(outcome.journal, "students-use-dashboards-and-chat")
    assert spike["status_counts"].get("503", 0) > 0
    assert hub_db_proxy(hub_stack, "/toxics") == []
    assert outcome.journal["hubchaos_safety"]["clean"] is True
    assert pages(outcome.journal)["misleading"] == []
    assert_diagnosed(outcome.journal, "db-connections-reset")


def test_deviates_on_the_incident_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "incident")
    assert outcome.code == 1, outcome.explain()
    assert FAIL_FAST in outcome.stderr
    spike = method_output(outcome.journal, "students-use-dashboards-and-chat")
    assert spike["latency_ms"]["max"] >= 10_000  # held for most of the 15 s of resets
    assert hub_db_proxy(hub_stack, "/toxics") == []
    assert outcome.journal["hubchaos_safety"]["clean"] is True
    assert_diagnosed(outcome.journal, "db-connections-reset")
