"""The incident by traffic alone: a rush through the front door, no database flood."""

from __future__ import annotations

import pytest

from tests.experiments.conftest import HubStack
from tests.experiments.journal_lookup import (
    after_probe,
    assert_diagnosed,
    method_output,
    pages,
)

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXPERIMENT = "traffic-spike.yaml"
SLOTS = "postgres-connections-stayed-under-its-ordinary-slots"
REFUSED = "no-login-refused-for-lack-of-slots"
RUSH = "students-rush-in-through-the-front-door"


def test_passes_on_the_fixed_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "fixed")
    assert outcome.code == 0, outcome.explain()
    assert after_probe(outcome.journal, SLOTS)["output"]["peak"] < 57
    assert after_probe(outcome.journal, REFUSED)["output"]["peak"] == 0
    rush = method_output(outcome.journal, RUSH)
    # every request answered: a page or a fast 503, nothing left hanging
    assert set(rush["status_counts"]) <= {"200", "201", "503"}, rush["status_counts"]
    assert rush["status_counts"].get("200", 0) > 0
    assert pages(outcome.journal)["misleading"] == []
    # the capped pools are the bottleneck, not PostgreSQL
    assert_diagnosed(outcome.journal, "app-pool-exhausted")
    assert outcome.journal["hubchaos_safety"]["clean"] is True


def test_deviates_on_the_incident_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "incident")
    assert outcome.code == 1, outcome.explain()
    assert SLOTS in outcome.stderr
    assert after_probe(outcome.journal, SLOTS)["output"]["peak"] >= 57
    # the wall: PostgreSQL refused the pools' logins, requests failed or hung
    rush = method_output(outcome.journal, RUSH)
    failed = sum(n for code, n in rush["status_counts"].items() if code != "200")
    assert failed + sum(rush["errors_by_kind"].values()) + rush["cancelled"] > 0, rush
    top = assert_diagnosed(outcome.journal, "app-pool-misconfigured")
    assert any("53300" in line for line in top["evidence"])
    assert outcome.journal["hubchaos_safety"]["clean"] is True


def test_the_rush_reached_every_replica(hub_stack: HubStack) -> None:
    """hub_web balances: on both profiles every replica's pool served the rush."""
    for profile in ("fixed", "incident"):
        journal = hub_stack.outcome(EXPERIMENT, profile).journal
        busiest: dict[str, float] = {}
        for sample in journal["hubchaos_timeline"]["samples"]:
            for replica, used in (sample.get("pool_used_by_replica") or {}).items():
                busiest[replica] = max(busiest.get(replica, 0.0), used)
        assert len(busiest) == 2 and min(busiest.values()) >= 2, (profile, busiest)
