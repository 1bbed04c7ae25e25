"""The ${HUBCHAOS_*} values compose.yaml is interpolated with for one stack."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hubchaos.stack.docker.images import default_runtime_context
from hubchaos.stack.ports import Ports
from hubchaos.stack.profiles import ResolvedProfile

__all__ = ["compose_variables"]


def compose_variables(
    ports: Ports, resolved: ResolvedProfile, config_dir: Path, superuser_password: str
) -> dict[str, str]:
    """Ports, the connection budget and pool of `resolved`, where the configs are rendered,
    and the stack's superuser password (never a fixed one: see hubchaos.stack.credentials)."""
    budget = resolved.budget
    observers = sum(n for name, n in budget.observer_slots.items() if name != "exporter") or 1
    values: dict[str, Any] = {
        "HUBCHAOS_POSTGRES_PORT": ports.postgres,
        "HUBCHAOS_TOXIPROXY_PORT": ports.toxiproxy,
        "HUBCHAOS_HUB_DB_PORT": ports.hub_db,
        "HUBCHAOS_HUB_WEB_PORT": ports.hub_web,
        "HUBCHAOS_PROMETHEUS_PORT": ports.prometheus,
        "HUBCHAOS_ALERTMANAGER_PORT": ports.alertmanager,
        "HUBCHAOS_RECEIVER_PORT": ports.receiver,
        "HUBCHAOS_EXPORTER_PORT": ports.exporter,
        "HUBCHAOS_PG_MAX_CONNECTIONS": budget.max_connections,
        "HUBCHAOS_PG_SUPERUSER_RESERVED": budget.superuser_reserved_connections,
        "HUBCHAOS_ROLE_CONNECTION_LIMIT": resolved.role_connection_limit,
        "HUBCHAOS_OBSERVER_LIMIT": observers,
        "HUBCHAOS_DOCKER_CONFIG": config_dir,
        "HUBCHAOS_RUNTIME_CONTEXT": default_runtime_context(),
        "HUBCHAOS_SUPERUSER_PASSWORD": superuser_password,
    }
    for key, value in resolved.pool.env().items():
        values[key.replace("LEARNINGHUB_", "HUBCHAOS_")] = value
    for index in range(1, resolved.replicas + 1):
        values[f"HUBCHAOS_APP_{index}_PORT"] = ports.replica(index)
    # Image pins (HUBCHAOS_*_IMAGE) may come from the user's environment.
    return {**os.environ, **{key: str(value) for key, value in values.items()}}
