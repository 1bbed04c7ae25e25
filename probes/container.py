"""Container probes on the docker hub stack: health and restart counts, and
whether a dead replica's database connections were released.

The stack is found like the container faults find it (configuration key
`hubchaos_state_dir`, else env HUBCHAOS_STATE_DIR, else `.hubchaos`).
"""

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.arguments import as_positive_float
from hubchaos.activity.docker_target import docker_stack, on_stack, replica_service
from hubchaos.probes.postgres import wait_for_connections_at_most

__all__ = ["container_health", "replica_connections_released"]

APP_PREFIX = "learninghub-"  # + the replica's service name: its PostgreSQL application_name


def container_health(
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """State, Docker health and restart count of every service's container.

    Returns ``{"services": {name: {...}}, "running", "healthy", "not_running",
    "unhealthy", "restarts", "all_healthy"}``: `not_running` lists services
    whose container is stopped, exited or paused, `unhealthy` those whose
    Docker health check is failing, `restarts` the engine's restart counts
    summed (restarts made by a restart policy).
    """
    stack = docker_stack(configuration)
    wanted = on_stack(stack, "list services", stack.services)
    found = {item["service"]: item for item in on_stack(stack, "inspect containers", stack.health)}
    services: dict[str, Any] = {}
    for name in wanted:
        services[name] = found.get(name) or {"service": name, "status": "missing",
                                            "running": False, "paused": False,
                                            "health": "none", "restart_count": 0}  # fmt: skip
    not_running = [name for name, item in services.items() if not item["running"]]
    unhealthy = [name for name, item in services.items() if item["health"] == "unhealthy"]
    return {
        "services": services,
        "running": len(services) - len(not_running),
        "healthy": sum(1 for item in services.values() if item["health"] == "healthy"),
        "not_running": not_running,
        "unhealthy": unhealthy,
        "restarts": sum(int(item.get("restart_count") or 0) for item in services.values()),
        "all_healthy": not not_running and not unhealthy,
    }


def replica_connections_released(
    replica: int = 0,
    timeout_seconds: float = 15.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Whether a replica that is not running holds no PostgreSQL connection any more.

    `replica` is 1-based; 0 means the last one. While the replica runs there
    is nothing to release and `ok` is true (`down` false): the hypothesis
    before a kill passes. Once it is down (killed, stopped, paused), waits up
    to `timeout_seconds` for its connections (application_name
    learninghub-app-K) to be gone from pg_stat_activity; `ok` is whether they
    were, `seconds` how long that took.
    """
    wait = as_positive_float("timeout_seconds", timeout_seconds, 300)
    stack = docker_stack(configuration)
    service = replica_service(stack, replica)
    found = {item["service"]: item for item in on_stack(stack, "inspect containers", stack.health)}
    item = found.get(service)
    if item is None:
        raise ActivityFailed(f"docker stack in {stack.state_dir}: no container for {service}")
    if item["running"]:
        return {"service": service, "down": False, "ok": True, "count": None, "seconds": 0.0}
    released = wait_for_connections_at_most(
        0, timeout_seconds=wait, application_prefix=f"{APP_PREFIX}{service}",
        configuration=configuration,
    )  # fmt: skip
    return {
        "service": service,
        "down": True,
        "status": item["status"],
        "ok": bool(released["ok"]),
        "count": released["count"],
        "seconds": released["seconds"],
    }
