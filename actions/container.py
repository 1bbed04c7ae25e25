"""Container faults on the docker hub stack: stop, start, restart, pause, unpause, kill, scale.

Each fault acts on one service of the stack started with `hubchaos up --env
docker` (postgres, toxiproxy, app-1 .. app-N, exporter, prometheus,
alertmanager, receiver), is recorded in the fault ledger (hubchaos.ledger)
before it is applied, so window probes judge what happened after it and the
dead man's switch undoes it if the runner dies, and is undone by
`restore_services`, the rollback: every stopped, killed or paused service is
running again (and the replica count is back) when it returns.

The stack is found through configuration key `hubchaos_state_dir` (else env
HUBCHAOS_STATE_DIR, else `.hubchaos`); see hubchaos/activity/docker_target.py.
"""

import functools
import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos import ledger as fault_ledger
from hubchaos.activity.arguments import as_int
from hubchaos.activity.docker_target import docker_stack, on_stack, replica_service
from hubchaos.ledger import history as fault_history

__all__ = [
    "kill_replica",
    "pause_service",
    "restart_service",
    "restore_services",
    "scale_app_replicas",
    "start_service",
    "stop_service",
    "unpause_service",
]

MAX_STOP_SECONDS = 300
MAX_REPLICAS = 20
HEALTH_SETTLE_S = 15.0  # Docker's checks run every 2-5 s; a failing one needs a pass to clear
_SIGNALS = ("SIGKILL", "SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP")


def _record(stack: Any, kind: str, service: str, configuration: Configuration) -> None:
    """Into the fault ledger before the fault: the switch starts the service again.

    An unknown service is refused first: nothing would be applied, and an entry
    left behind would have the switch retrying an undo for an hour.
    """
    what = f"{kind.removeprefix('container:')} {service}"
    on_stack(stack, what, lambda: stack.container(service))
    undo = {"action": "container.start", "state_dir": str(stack.state_dir), "service": service}
    fault_ledger.record(kind, service, undo, configuration)


def _settle_service(stack: Any, service: str, configuration: Configuration) -> None:
    """`service` runs again: its stop, kill or pause entries are undone."""
    for entry in fault_ledger.mine(configuration, "container:"):
        undo = entry.undo
        if undo.get("service") == service and undo.get("state_dir") == str(stack.state_dir):
            fault_ledger.settle(entry, configuration)


def _timed(result: dict[str, Any], started: float) -> dict[str, Any]:
    return {**result, "seconds": round(time.monotonic() - started, 3)}


def stop_service(
    service: str,
    timeout_seconds: int = 10,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Stop `service`'s container (SIGTERM, then SIGKILL after `timeout_seconds`).

    Returns the container's state afterwards (status, health, restart count,
    exit code) and how long stopping took.
    """
    grace = as_int("timeout_seconds", timeout_seconds, 0, MAX_STOP_SECONDS)
    stack = docker_stack(configuration)
    started = time.monotonic()
    _record(stack, "container:stop", str(service), configuration)
    result = on_stack(stack, f"stop {service}", lambda: stack.stop_service(str(service), grace))
    return _timed(result, started)


def start_service(
    service: str,
    wait: bool = True,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Start `service`'s stopped (or unpause its paused) container.

    With `wait` it returns once the service answers its health check again
    (a restarted fault proxy gets its proxies back). Returns the container's
    state and how long it took.
    """
    stack = docker_stack(configuration)
    started = time.monotonic()
    result = on_stack(
        stack, f"start {service}", lambda: stack.start_service(str(service), bool(wait))
    )
    _settle_service(stack, str(service), configuration)
    return _timed(result, started)


def restart_service(
    service: str,
    wait: bool = True,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Restart `service`'s container; with `wait`, until it is healthy again.

    Returns the container's state and how long the restart took.
    """
    stack = docker_stack(configuration)
    started = time.monotonic()
    fault_history.note("container:restart", str(service))
    result = on_stack(
        stack, f"restart {service}", lambda: stack.restart_service(str(service), bool(wait))
    )
    return _timed(result, started)


def pause_service(
    service: str,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Freeze every process of `service` (cgroup freezer): sockets stay open, nothing answers.

    Returns the container's state.
    """
    stack = docker_stack(configuration)
    started = time.monotonic()
    _record(stack, "container:pause", str(service), configuration)
    result = on_stack(stack, f"pause {service}", lambda: stack.pause_service(str(service)))
    return _timed(result, started)


def unpause_service(
    service: str,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Thaw a paused service (nothing happens when it is not paused). Returns its state."""
    stack = docker_stack(configuration)
    started = time.monotonic()
    result = on_stack(stack, f"unpause {service}", lambda: stack.unpause_service(str(service)))
    _settle_service(stack, str(service), configuration)
    return _timed(result, started)


def kill_replica(
    replica: int = 0,
    signal: str = "SIGKILL",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Kill one app replica's container with `signal` (SIGKILL: no clean shutdown).

    `replica` is 1-based; 0 means the last one. Its pool's connections are
    torn down with the process, which is what a probe can then check
    (probes/container.py: replica_connections_released). Returns the service
    killed and its container state.
    """
    name = str(signal).upper()
    if name not in _SIGNALS:
        raise ActivityFailed(
            f"argument signal must be one of {', '.join(_SIGNALS)}, got {signal!r}"
        )
    stack = docker_stack(configuration)
    service = replica_service(stack, replica)
    started = time.monotonic()
    _record(stack, "container:kill", service, configuration)
    result = on_stack(stack, f"kill {service}", lambda: stack.kill_service(service, name))
    return _timed({**result, "signal": name}, started)


def scale_app_replicas(
    replicas: int,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Run `replicas` app replica containers; pool max per replica follows the profile.

    Every replica is recreated with the profile's pool settings for the new
    count and Prometheus scrapes the new set. Returns the new and previous
    count, the pool max per replica and the replicas' URLs.
    """
    wanted = as_int("replicas", replicas, 1, MAX_REPLICAS)
    stack = docker_stack(configuration)
    before = on_stack(stack, "read stack.json", stack.state)
    if before is None:
        raise ActivityFailed(f"docker stack in {stack.state_dir}: no stack.json")
    started = time.monotonic()
    fault_ledger.record(
        "container:scale",
        f"{before.replicas} -> {wanted} replicas",
        {
            "action": "container.scale",
            "state_dir": str(stack.state_dir),
            "replicas": before.replicas,
        },
        configuration,
    )
    state = on_stack(stack, f"scale to {wanted} replicas", lambda: stack.scale(wanted))
    return _timed(
        {
            "replicas": state.replicas,
            "previous": before.replicas,
            "pool_max_per_replica": state.budget.get("pool_max_per_replica"),
            "replica_urls": list(state.app_replica_urls),
        },
        started,
    )


def restore_services(
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Rollback: the replica count this run found, and every service running and healthy.

    Paused containers are unpaused, stopped or killed ones started, each
    awaited until its process answers (an app replica may still be refused
    by a full database: that is the system's state, for probes to judge).
    Then it gives Docker's own health checks up to 15 s to pass again.
    Returns what was restored and which services are still unhealthy.
    """
    stack = docker_stack(configuration)
    started = time.monotonic()
    mine = [
        entry
        for entry in fault_ledger.mine(configuration, "container:")
        if entry.undo.get("state_dir") == str(stack.state_dir)
    ]
    scales = [entry for entry in mine if entry.undo.get("action") == "container.scale"]
    original = int(scales[0].undo["replicas"]) if scales else None
    restored: list[str] = []
    state = on_stack(stack, "read stack.json", stack.state)
    if original is not None and state is not None and state.replicas != original:
        on_stack(stack, f"scale back to {original} replicas", lambda: stack.scale(original))
        restored.append(f"replicas={original}")
    services = on_stack(stack, "list services", stack.services)
    for item in on_stack(stack, "list containers", stack.health):
        service = item["service"]
        if service not in services:
            continue  # the one-shot migrate container
        if item["paused"] or not item["running"]:
            # Alive is enough: whether it can reach its database again is for probes to judge.
            on_stack(
                stack,
                f"start {service}",
                functools.partial(stack.start_service, service, True, True),
            )
            restored.append(service)
    # The engine's health checks lag behind the restart: give them a moment, then report.
    unhealthy = []
    settle_until = time.monotonic() + HEALTH_SETTLE_S  # one deadline for all of them
    for service in services:
        left = max(0.0, settle_until - time.monotonic())
        item = on_stack(
            stack, f"health of {service}",
            functools.partial(stack.wait_docker_healthy, service, left),
        )  # fmt: skip
        if item["health"] not in ("healthy", "none"):
            unhealthy.append(service)
    for entry in mine:
        fault_ledger.settle(entry, configuration)
    return _timed({"restored": restored, "unhealthy": unhealthy}, started)
