"""Every database connection reset for 15 s: broken ones discarded, none leaked."""

from __future__ import annotations

import httpx
import pytest

from tests.experiments.conftest import HubStack

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXPERIMENT = "reset-peer.yaml"
FAIL_FAST = "requests-failed-fast-while-connections-were-reset"


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
    assert _after_probe(outcome.journal, FAIL_FAST)["output"]["peak"] <= 0.01
    leaks = _after_probe(outcome.journal, "no-connection-leaked")["output"]
    assert leaks["ok"] is True and leaks["leaks"] == []
    assert all(r["used"] == 0 for r in leaks["replicas"])
    alert = _after_probe(outcome.journal, "database-down-alert-fired-within-30s")["output"]
    assert alert["fired"] is True
    # the resets were felt: requests failed while the link was broken
    spike = _method_output(outcome.journal, "students-use-dashboards-and-chat")
    assert spike["status_counts"].get("503", 0) > 0
    assert _toxics_on_hub_db(hub_stack) == []
    assert outcome.journal["hubchaos_safety"]["clean"] is True


def test_deviates_on_the_incident_profile(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "incident")
    assert outcome.code == 1, outcome.explain()
    assert FAIL_FAST in outcome.stderr
    spike = _method_output(outcome.journal, "students-use-dashboards-and-chat")
    assert spike["latency_ms"]["max"] >= 10_000  # held for most of the 15 s of resets
    assert _toxics_on_hub_db(hub_stack) == []
    assert outcome.journal["hubchaos_safety"]["clean"] is True
