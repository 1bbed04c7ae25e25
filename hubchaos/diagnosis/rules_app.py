"""App-side causes: an exhausted pool, a replica down, a query spike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubchaos.diagnosis.causes import Finding
from hubchaos.diagnosis.evidence import Evidence

__all__ = ["app_pool_exhausted", "query_spike", "replica_down"]

# A replica restarting on purpose is down for a second or two; a dead one stays down.
DOWN_FOR_SAMPLES = 3
# Restarts the run asks for (fresh pools, a new profile): replicas are down on purpose.
PLANNED_RESTARTS = ("restart_component", "set_profile", "scale_replicas", "restore_stack")
RESTART_GRACE_S = 10.0
SPIKE_FACTOR = 3.0
SPIKE_FLOOR_QPS = 50.0


def app_pool_exhausted(evidence: Evidence) -> Finding | None:
    waiting = evidence.longest_run(lambda s: (s.get("pool_pending") or 0) > 0)
    refused = evidence.total("pool_timeouts") + evidence.total("pool_rejections")
    saturated = evidence.longest_run(_saturated)
    if waiting < 2 and refused <= 0 and saturated < 2:
        return None
    lines = []
    if waiting:
        lines.append(
            f"requests queued for a pooled connection for {waiting} s "
            f"(up to {evidence.peak('pool_pending') or 0:.0f} waiting)"
        )
    if refused > 0:
        lines.append(f"about {max(refused, 1):.0f} request(s) got 503: no connection in time")
    if saturated:
        lines.append(f"pools at 90 % or more of their max for {saturated} s")
    lines += evidence.fired_lines("HubDBPoolRequestsWaiting", "HubDBPoolSaturated")
    return Finding(
        "app-pool-exhausted",
        0.6,
        "the app's connection pools are the bottleneck: requests wait or get fast 503s",
        lines,
    )


def _saturated(sample: Mapping[str, Any]) -> bool:
    used, limit = sample.get("pool_used"), sample.get("pool_max")
    return bool(isinstance(used, int | float) and limit and used / limit >= 0.9)


def replica_down(evidence: Evidence) -> Finding | None:
    planned = [i.started for i in evidence.injected(*PLANNED_RESTARTS)]

    def unplanned_down(sample: Mapping[str, Any]) -> bool:
        taken = evidence.sample_time(sample)
        restarting = taken is not None and any(
            0 <= (taken - began).total_seconds() <= RESTART_GRACE_S for began in planned
        )
        return _a_replica_down(sample) and not restarting

    down = evidence.longest_run(unplanned_down)
    kills = evidence.injected("kill_replica", "stop_container", "stop_service")
    if down < DOWN_FOR_SAMPLES and not kills:
        return None
    lines = [f"fault: {i.name}: {i.describe()}" for i in kills]
    if down:
        dead = evidence.peak("replicas_dead") or 1
        scraped = evidence.peak("replicas_scraped")
        of = f" of {scraped:.0f}" if scraped is not None else ""
        lines.append(f"{dead:.0f}{of} replica(s) refused connections (process gone) for {down} s")
    confidence = 0.92 if kills and down >= DOWN_FOR_SAMPLES else 0.85 if down else 0.55
    return Finding("replica-down", confidence, "an app replica is down", lines)


def _a_replica_down(sample: Mapping[str, Any]) -> bool:
    dead = sample.get("replicas_dead")
    return isinstance(dead, int | float) and dead >= 1


def query_spike(evidence: Evidence) -> Finding | None:
    peak = evidence.peak("queries_per_second")
    before = evidence.baseline("queries_per_second") or 0.0
    if peak is None or peak < max(SPIKE_FLOOR_QPS, SPIKE_FACTOR * before):
        return None
    lines = [f"{peak:.0f} queries/s at the peak, {before:.0f}/s before the first fault"]
    lines += evidence.fired_lines("HubDBQuerySpike")
    return Finding("query-spike", 0.45, "the query rate spiked far above its baseline", lines)
