"""200 ms on the database link: the fixed pool fails fast, the incident pool stalls pages."""

from __future__ import annotations

import httpx
import pytest

from tests.experiments.conftest import HubStack

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXPERIMENT = "db-latency.yaml"
SLOW_SHARE = "dashboards-answer-within-3s-or-fail-fast"


def _after_probe(journal: dict, name: str) -> dict:
    probes = journal["steady_states"]["after"]["probes"]
    return next(p for p in probes if p["activity"]["name"] == name)


def _method_output(journal: dict, name: str) -> dict:
    return next(r for r in journal["run"] if r["activity"]["name"] == name)["output"]


def _toxics_on_hub_db(hub_stack: HubStack) -> list:
    state = hub_stack.stack.state()
    assert state is not None
    return httpx.get(f"{state.toxiproxy_url}/proxies/hub_db/toxics", timeout=5).json()


def test_passes_on_the_fixed_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "fixed")
    assert outcome.code == 0, outcome.explain()
    slow = _after_probe(outcome.journal, SLOW_SHARE)["output"]
    assert slow["since_fault"] is True and slow["peak"] <= 0.05
    budget = _after_probe(outcome.journal, "postgres-connections-stayed-inside-the-budget")
    assert budget["output"]["peak"] < 57
    alert = _after_probe(outcome.journal, "pool-wait-alert-fired-within-30s")["output"]
    assert alert["fired"] is True and alert["seconds_to_fire"] <= 30
    # the latency really was there: the pages that were served took over 0.8 s
    spike = _method_output(outcome.journal, "students-open-dashboards-and-chat")
    assert spike["status_counts"].get("200", 0) > 0
    assert spike["latency_ms"]["max"] >= 800
    assert _toxics_on_hub_db(hub_stack) == []
    assert outcome.journal["hubchaos_safety"]["clean"] is True


def test_deviates_on_the_incident_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "incident")
    assert outcome.code == 1, outcome.explain()
    assert SLOW_SHARE in outcome.stderr
    # requests queued behind a pool that grows one slow login at a time
    assert _after_probe(outcome.journal, SLOW_SHARE)["output"]["peak"] > 0.05
    assert _toxics_on_hub_db(hub_stack) == []
    assert outcome.journal["hubchaos_safety"]["clean"] is True
