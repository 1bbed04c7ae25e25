"""Every contract alert fires on its fault and reaches the webhook receiver."""

from __future__ import annotations

import pytest

from tests.experiments.conftest import HubStack
from tests.experiments.journal_lookup import after_probe

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXPERIMENT = "alert-pipeline.yaml"
ALERTS = {
    "HubDBPoolSaturated": "hub-db-pool-saturated-fired-and-reached-on-call",
    "HubDBPoolRequestsWaiting": "hub-db-pool-requests-waiting-fired-and-reached-on-call",
    "HubDBConnectionsNearLimit": "hub-db-connections-near-limit-fired-and-reached-on-call",
    "HubDBQuerySpike": "hub-db-query-spike-fired-and-reached-on-call",
    "HubHighLatency": "hub-high-latency-fired-and-reached-on-call",
    "HubHighErrorRate": "hub-high-error-rate-fired-and-reached-on-call",
    "HubDatabaseDown": "hub-database-down-fired-and-reached-on-call",
}


def test_passes_on_the_fixed_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "fixed")
    assert outcome.code == 0, outcome.explain()
    quiet = after_probe(outcome.journal, "query-rate-was-quiet-enough-for-a-spike")["output"]
    assert quiet["at_fault"] is True and quiet["value"] <= 100
    for alert, probe in ALERTS.items():
        delivered = after_probe(outcome.journal, probe)["output"]
        assert delivered["alert"] == alert and delivered["delivered"] is True, delivered
        # started by this run's faults, not left over from an earlier one
        assert delivered["started_after_seconds"] >= -1
    assert outcome.journal["hubchaos_safety"]["clean"] is True


def test_deviates_on_the_incident_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "incident")
    assert outcome.code == 1, outcome.explain()
    # 100 connections per replica is more than PostgreSQL can give: the
    # pool-usage page can never fire, whatever the load
    assert ALERTS["HubDBPoolSaturated"] in outcome.stderr
    saturated = after_probe(outcome.journal, ALERTS["HubDBPoolSaturated"])["output"]
    assert saturated["delivered"] is False
    assert outcome.journal["hubchaos_safety"]["clean"] is True
