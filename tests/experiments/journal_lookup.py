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
