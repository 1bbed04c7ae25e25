"""A real toxiproxy-server as the stack's fault proxy: the incident replay still judges.

`hubchaos up --toxiproxy PATH` with the upstream binary, then the incident
replay through `hubchaos run` on the fixed profile (passes) and the incident
profile (deviates), the same verdicts as with the embedded server. Skipped
without a binary (tests/real_toxiproxy.py says how to get one); CI runs the
embedded server only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.experiments.conftest import HubStack
from tests.real_toxiproxy import real_toxiproxy_binary, real_toxiproxy_test
from tests.stack.conftest import free_port_offset, live_processes_under

pytestmark = [pytest.mark.stack, pytest.mark.slow, real_toxiproxy_test]

EXPERIMENT = "incident-replay.yaml"


@pytest.fixture(scope="module")
def real_proxy_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    base = tmp_path_factory.mktemp("real-toxiproxy")
    hub = HubStack(base / ".hubchaos", free_port_offset())
    try:
        hub.stack.up(profile="fixed", replicas=2, toxiproxy=str(real_toxiproxy_binary()))
        yield hub
    finally:
        hub.stack.down(purge=True)
        assert live_processes_under(hub.state_dir) == []


def test_the_stack_runs_the_real_binary(real_proxy_stack: HubStack) -> None:
    state = json.loads((real_proxy_stack.state_dir / "stack.json").read_text())
    assert state["toxiproxy"]["kind"] == "binary"
    assert state["toxiproxy"]["binary"] == real_toxiproxy_binary()


def test_incident_replay_passes_on_fixed(real_proxy_stack: HubStack) -> None:
    outcome = real_proxy_stack.outcome(EXPERIMENT, "fixed")
    assert outcome.code == 0, outcome.explain()
    assert outcome.journal["hubchaos_safety"]["clean"] is True


def test_incident_replay_deviates_on_incident(real_proxy_stack: HubStack) -> None:
    outcome = real_proxy_stack.outcome(EXPERIMENT, "incident")
    assert outcome.code == 1, outcome.explain()
    assert "postgres-connections-stayed-inside-the-budget" in outcome.stderr
    assert outcome.journal["hubchaos_safety"]["clean"] is True
