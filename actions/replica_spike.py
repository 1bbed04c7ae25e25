"""An HTTP spike spread over every app replica, as a load balancer spreads it.

`hub_web` reaches replica 1 only, so traffic through it never shows what the
other replicas' pools do. This action reads the replica list from the stack's
environment driver (see `hubchaos.actions._stack_driver`) once a second and
runs one `http_spike` per replica, starting one on every replica that
appears, e.g. after `scale_replicas`. It is a flood like the others: bounded
in time, stopped by `stop_floods` and Ctrl-C.
"""

import asyncio
import contextlib
import threading
from collections import Counter
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.actions import _flood_registry
from hubchaos.actions._stack_driver import running_state, stack_driver
from hubchaos.actions.flood import http_spike
from hubchaos.activity.arguments import as_int, as_positive_float
from hubchaos.stack.driver import StackDriver
from hubchaos.traffic.http_load import load_plan

__all__ = ["http_spike_all_replicas"]

REFRESH_S = 1.0
MAX_CONCURRENCY_PER_REPLICA = 1_000


class _ReplicaSpike(threading.Thread):
    """One `http_spike` against one replica, in its own thread (it runs its own loop)."""

    def __init__(self, url: str, arguments: dict[str, Any]) -> None:
        super().__init__(name=f"spike {url}", daemon=True)
        self.url = url
        self.arguments = arguments
        self.result: dict[str, Any] | None = None
        self.error: str | None = None

    def run(self) -> None:
        try:
            self.result = http_spike(url=self.url, **self.arguments)
        except Exception as exc:  # reported per replica; the others go on
            self.error = str(exc) or type(exc).__name__


def http_spike_all_replicas(
    concurrency_per_replica: int = 20,
    duration_seconds: float = 30.0,
    routes: list | None = None,
    timeout: float = 10.0,
    fast_503_ms: float = 1000.0,
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
) -> dict:
    """Spike HTTP traffic on every app replica for `duration_seconds`, following scale-outs.

    Each replica gets `concurrency_per_replica` keep-alive workers over
    `routes` (as for `http_spike`, default dashboard and chat reads); a
    replica that appears later gets the rest of the duration. Returns the
    per-replica statistics of `http_spike` (status counts, latency
    percentiles, error rate) plus totals, and per-replica errors when a
    spike could not run.
    """
    concurrency = as_int("concurrency_per_replica", concurrency_per_replica, 1)
    if concurrency > MAX_CONCURRENCY_PER_REPLICA:
        raise ActivityFailed(
            f"argument concurrency_per_replica must be at most {MAX_CONCURRENCY_PER_REPLICA}"
        )
    duration = as_positive_float("duration_seconds", duration_seconds)
    request_timeout = as_positive_float("timeout", timeout, 300.0)
    driver = stack_driver(configuration)
    first = running_state(driver).app_replica_urls[0]  # no stack there: fail before any traffic
    # bad routes or a target outside the blast radius: fail before any traffic too
    load_plan(first, routes, concurrency, duration, 1, request_timeout, fast_503_ms, configuration)
    target = f"every replica of the stack in {driver.state_dir}"
    spikes: dict[str, _ReplicaSpike] = {}

    async def spread(handle: _flood_registry.FloodHandle, stop: asyncio.Event) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + duration
        while not stop.is_set() and (remaining := deadline - loop.time()) > 0.5:
            for url in _replica_urls(driver):
                if url not in spikes:
                    spikes[url] = _ReplicaSpike(
                        url,
                        {
                            "concurrency": concurrency,
                            "duration_seconds": remaining,
                            "routes": routes,
                            "timeout": request_timeout,
                            "fast_503_ms": fast_503_ms,
                            "configuration": configuration,
                        },
                    )
                    spikes[url].start()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), REFRESH_S)
        # stop_floods and Ctrl-C stop every flood, the replicas' spikes included
        for spike in spikes.values():
            await asyncio.to_thread(spike.join, request_timeout + 15.0)
        return _summary(spikes)

    result = _flood_registry.run_flood(
        "http_spike_all_replicas", target, duration + request_timeout + 20.0, spread
    )
    if spikes and all(spike.error for spike in spikes.values()):
        raise ActivityFailed(
            f"HTTP spike of {target}: "
            + "; ".join(f"{url}: {spike.error}" for url, spike in spikes.items())
        )
    return result


def _replica_urls(driver: StackDriver) -> list[str]:
    """The replicas now; none new while stack.json cannot be read (the spikes go on)."""
    try:
        return list(running_state(driver).app_replica_urls)
    except ActivityFailed:
        return []


def _summary(spikes: dict[str, _ReplicaSpike]) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    requests = 0
    for spike in spikes.values():
        if spike.result:
            statuses.update({str(k): int(v) for k, v in spike.result["status_counts"].items()})
            requests += int(spike.result["latency_ms"]["count"])
    return {
        "replica_count": len(spikes),
        "responses": requests,
        "status_counts": dict(statuses),
        "replicas": {url: spike.result for url, spike in spikes.items() if spike.result},
        "errors": {url: spike.error for url, spike in spikes.items() if spike.error},
    }
