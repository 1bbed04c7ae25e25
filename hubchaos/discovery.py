"""`chaos discover hubchaos`: list every action and probe this package ships."""

from __future__ import annotations

from typing import Any

__all__ = ["ACTION_MODULES", "PROBE_MODULES", "discover"]

ACTION_MODULES = (
    "hubchaos.actions.toxiproxy",
    "hubchaos.actions.flood",
    "hubchaos.actions.cluster_flood",
    "hubchaos.actions.replica_spike",
    "hubchaos.actions.stack",
    "hubchaos.actions.container",
    "hubchaos.actions.cordon",
    "hubchaos.actions.eviction",
    "hubchaos.actions.autoscaler",
)
PROBE_MODULES = (
    "hubchaos.probes.pool",
    "hubchaos.probes.postgres",
    "hubchaos.probes.http",
    "hubchaos.probes.alerts",
    "hubchaos.probes.prometheus",
    "hubchaos.probes.window",
    "hubchaos.probes.recovery",
    "hubchaos.probes.leaks",
    "hubchaos.probes.delivery",
    "hubchaos.probes.baseline",
    "hubchaos.probes.container",
    "hubchaos.probes.node",
    "hubchaos.probes.autoscaler",
    "hubchaos.probes.rollout",
)


def discover(version: str, discover_system: bool = True) -> dict[str, Any]:
    """The Chaos Toolkit discovery document of hubchaos's activities (package `version`)."""
    from chaoslib.discovery.discover import (
        discover_actions,
        discover_probes,
        initialize_discovery_result,
    )

    discovery: dict[str, Any] = initialize_discovery_result("hubchaos", version, "hubchaos")
    for module in ACTION_MODULES:
        discovery["activities"].extend(discover_actions(module))
    for module in PROBE_MODULES:
        discovery["activities"].extend(discover_probes(module))
    return discovery
