"""The database link cut for 20 s: fast 503s and a full recovery, or hung pages."""

from __future__ import annotations

import httpx
import pytest

from tests.experiments.conftest import HubStack

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXPERIMENT = "db-outage.yaml"
FAIL_FAST = "requests-failed-fast-while-the-database-was-away"


def _after_probe(journal: dict, name: str) -> dict:
    probes = journal["steady_states"]["after"]["probes"]
    return next(p for p in probes if p["activity"]["name"] == name)


def _method_output(journal: dict, name: str) -> dict:
    return next(r for r in journal["run"] if r["activity"]["name"] == name)["output"]


def _hub_db_enabled(hub_stack: HubStack) -> bool:
    state = hub_stack.stack.state()
    assert state is not None
    return bool(httpx.get(f"{state.toxiproxy_url}/proxies/hub_db", timeout=5).json()["enabled"])


def test_passes_on_the_fixed_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "fixed")
    assert outcome.code == 0, outcome.explain()
    assert _after_probe(outcome.journal, FAIL_FAST)["output"]["peak"] <= 0.01
    alert = _after_probe(outcome.journal, "database-down-alert-fired-within-30s")["output"]
    assert alert["fired"] is True and alert["seconds_to_fire"] <= 30
    recovery = _after_probe(outcome.journal, "every-replica-serves-again-within-30s")["output"]
    assert recovery["ok"] is True and recovery["seconds"] <= 30
    # the outage was felt: 503s, each with Retry-After, within the 2 s mark
    spike = _method_output(outcome.journal, "students-use-dashboards-and-chat")
    assert spike["status_counts"].get("503", 0) > 0
    assert spike["fast_503_share"] >= 0.99
    assert _hub_db_enabled(hub_stack)
    assert outcome.journal["hubchaos_safety"]["clean"] is True


def test_deviates_on_the_incident_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "incident")
    assert outcome.code == 1, outcome.explain()
    assert FAIL_FAST in outcome.stderr
    # requests waited for the database instead of failing: longer than the outage's half
    spike = _method_output(outcome.journal, "students-use-dashboards-and-chat")
    assert spike["latency_ms"]["max"] >= 10_000
    assert _hub_db_enabled(hub_stack)
    assert outcome.journal["hubchaos_safety"]["clean"] is True
