"""Reading a finished experiment: a probe's record in the journal, an action's output, the proxy."""

from __future__ import annotations

from typing import Any

import httpx

from tests.experiments.conftest import HubStack


def after_probe(journal: dict[str, Any], name: str) -> dict[str, Any]:
    """The record of probe `name` in the hypothesis checked after the method."""
    probes = journal["steady_states"]["after"]["probes"]
    return next(p for p in probes if p["activity"]["name"] == name)


def method_output(journal: dict[str, Any], name: str) -> Any:
    """What activity `name` of the method returned."""
    return next(r for r in journal["run"] if r["activity"]["name"] == name)["output"]


def hub_db_proxy(hub_stack: HubStack, path: str = "") -> Any:
    """GET /proxies/hub_db<path> from the stack's Toxiproxy API."""
    state = hub_stack.stack.state()
    assert state is not None
    return httpx.get(f"{state.toxiproxy_url}/proxies/hub_db{path}", timeout=5).json()


def assert_diagnosed(journal: dict[str, Any], cause: str) -> dict[str, Any]:
    """The run's top finding is `cause`, with evidence, known at most 5 s after detection."""
    from hubchaos.journal.facts import facts_from_journal

    findings = journal["hubchaos_diagnosis"]
    assert findings[0]["cause"] == cause, [(f["cause"], f["confidence"]) for f in findings]
    assert findings[0]["evidence"]
    detected = facts_from_journal(journal).seconds_to_detect()
    known = findings[0]["known_after_seconds"]
    assert known is not None and detected is not None, findings[0]
    assert known <= detected + 5, (known, detected)
    return dict(findings[0])


def pages(journal: dict[str, Any]) -> dict[str, Any]:
    """The pages on-call got, judged after the method (alerts_as_expected)."""
    output: dict[str, Any] = after_probe(journal, "the-right-pages-and-no-misleading-one")["output"]
    return output
