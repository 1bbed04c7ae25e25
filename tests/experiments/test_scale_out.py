"""Doubling the replicas mid-peak: the fixed budget holds, the incident pools hit the wall."""

from __future__ import annotations

import pytest

from tests.experiments.conftest import HubStack
from tests.experiments.journal_lookup import after_probe, assert_diagnosed, method_output, pages

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXPERIMENT = "scale-out.yaml"
BUDGET = "postgres-connections-stayed-inside-the-budget"


def _replicas_now(hub_stack: HubStack) -> int:
    state = hub_stack.stack.state()
    assert state is not None
    return state.replicas


def test_passes_on_the_fixed_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "fixed")
    assert outcome.code == 0, outcome.explain()
    scaled = method_output(outcome.journal, "double-the-replicas")
    assert (scaled["previous"]["replicas"], scaled["replicas"]) == (2, 4)
    assert scaled["fits_budget"] is True and scaled["pool_max_per_replica"] < 20
    assert after_probe(outcome.journal, BUDGET)["output"]["peak"] < 57
    # the new replicas took their share of the traffic
    spike = method_output(outcome.journal, "students-on-every-replica")
    assert spike["replica_count"] == 4 and spike["errors"] == {}
    serving = after_probe(outcome.journal, "every-replica-serves-within-30s")["output"]
    assert len(serving["checks"]) == 8 and serving["ok"] is True
    assert _replicas_now(hub_stack) == 2  # the rollback scaled back
    assert outcome.journal["hubchaos_safety"]["clean"] is True
    assert pages(outcome.journal)["misleading"] == []
    # the re-sized pools queue and shed load; PostgreSQL is never the problem
    assert_diagnosed(outcome.journal, "app-pool-exhausted")


def test_deviates_on_the_incident_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "incident")
    assert outcome.code == 1, outcome.explain()
    assert BUDGET in outcome.stderr
    assert after_probe(outcome.journal, BUDGET)["output"]["peak"] >= 57
    scaled = method_output(outcome.journal, "double-the-replicas")
    assert scaled["fits_budget"] is False and scaled["pool_max_per_replica"] == 100
    assert _replicas_now(hub_stack) == 2
    assert outcome.journal["hubchaos_safety"]["clean"] is True
    # 4 replicas x pool max 100 against 57 slots: the pools ran PostgreSQL into its wall
    assert_diagnosed(outcome.journal, "app-pool-misconfigured")
