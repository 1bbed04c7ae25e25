"""The stack's containers and network on the Docker engine, labelled as Compose labels them.

Containers are named `<project>-<service>-1` and carry the com.docker.compose
labels, so `docker compose -p <project> ps` (v2) and `docker ps` show them
like any compose project; the driver itself only needs the Docker API.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubchaos.errors import StackError, UserError
from hubchaos.stack.docker.compose import ServiceSpec

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
ONEOFF_LABEL = "com.docker.compose.oneoff"
NETWORK_LABEL = "com.docker.compose.network"
STATE_LABEL = "org.hubchaos.state-dir"
NETWORK = "hub"
API_TIMEOUT_S = 120  # one Docker API call (an image build streams past it)


def connect(timeout: int = API_TIMEOUT_S) -> Any:
    """A Docker API client for the local engine, or UserError saying how to start one."""
    try:
        import docker
        import docker.errors
    except ImportError as exc:
        raise UserError("the `docker` Python package is missing: pip install docker") from exc
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except docker.errors.DockerException as exc:
        raise UserError(
            f"no Docker engine answers ({str(exc).splitlines()[0][:160]}): start dockerd "
            "(scripts/docker-setup does it on Debian) or set DOCKER_HOST"
        ) from None
    return client


@dataclass(frozen=True)
class Project:
    """One stack's containers: `name` is the compose project name."""

    client: Any
    name: str
    state_dir: Path

    @property
    def network_name(self) -> str:
        return f"{self.name}_{NETWORK}"

    def container_name(self, service: str) -> str:
        return f"{self.name}-{service}-1"

    def ensure_network(self) -> None:
        import docker.errors

        try:
            self.client.networks.get(self.network_name)
        except docker.errors.NotFound:
            self.client.networks.create(
                self.network_name,
                driver="bridge",
                labels={PROJECT_LABEL: self.name, NETWORK_LABEL: NETWORK},
            )

    def containers(self, service: str | None = None) -> list[Any]:
        """Every container of the project (running or not), optionally of one service."""
        labels = [f"{PROJECT_LABEL}={self.name}"]
        if service:
            labels.append(f"{SERVICE_LABEL}={service}")
        found = self.client.containers.list(all=True, filters={"label": labels})
        return sorted(found, key=lambda c: c.labels.get(SERVICE_LABEL, ""))

    def container(self, service: str) -> Any | None:
        found = self.containers(service)
        return found[0] if found else None

    def run(self, spec: ServiceSpec) -> Any:
        """Create and start `spec`'s container, replacing an old one of the same name."""
        import docker.errors

        self.remove(spec.name)
        endpoint = self.client.api.create_endpoint_config(aliases=[spec.name, *spec.aliases])
        options: dict[str, Any] = {
            "name": self.container_name(spec.name),
            "command": spec.command,
            "entrypoint": spec.entrypoint,
            "environment": spec.environment,
            "labels": {
                PROJECT_LABEL: self.name,
                SERVICE_LABEL: spec.name,
                NUMBER_LABEL: "1",
                ONEOFF_LABEL: "False",
                STATE_LABEL: str(self.state_dir),
            },
            "ports": {
                f"{port.container_port}/tcp": (port.host_ip, port.host_port) for port in spec.ports
            },
            "volumes": {
                str(mount.source): {"bind": mount.target, "mode": "ro" if mount.read_only else "rw"}
                for mount in spec.mounts
            },
            "network": self.network_name,
            "networking_config": {self.network_name: endpoint},
            "detach": True,
            "log_config": {"type": "json-file", "config": {"max-size": "10m"}},
        }
        if spec.init:
            options["init"] = True
        if spec.stop_signal:
            options["stop_signal"] = spec.stop_signal
        if spec.healthcheck is not None:
            options["healthcheck"] = spec.healthcheck
        try:
            return self.client.containers.run(spec.image, **options)
        except docker.errors.APIError as exc:
            raise StackError(spec.name, f"container did not start: {_explain(exc)}") from None

    def remove(self, service: str) -> bool:
        """Remove the service's container at once (killing it); True when there was one."""
        import docker.errors

        removed = False
        for container in self.containers(service):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
                removed = True
        return removed

    def stop_all(self, services: list[str], timeout_s: int) -> list[str]:
        """Stop then remove the given services' containers, all at once; returns those removed."""
        wanted = set(services)
        found = [c for c in self.containers() if c.labels.get(SERVICE_LABEL) in wanted]
        with ThreadPoolExecutor(max_workers=max(1, len(found))) as pool:
            done = list(pool.map(lambda c: _stop_and_remove(c, timeout_s), found))
        return [c.labels.get(SERVICE_LABEL, "") for c, ok in zip(found, done, strict=True) if ok]

    def remove_network(self) -> None:
        import docker.errors

        with contextlib.suppress(docker.errors.NotFound):
            self.client.networks.get(self.network_name).remove()


def _stop_and_remove(container: Any, timeout_s: int) -> bool:
    import docker.errors

    try:
        if container.status == "paused":
            container.unpause()
        if container.status in ("running", "paused", "restarting"):
            container.stop(timeout=timeout_s)
        container.remove(force=True)
    except docker.errors.NotFound:
        return False
    return True


def describe(container: Any) -> dict[str, Any]:
    """state, health, restart count and exit code of one container, fresh from the engine."""
    container.reload()
    attrs = container.attrs
    state = attrs.get("State", {})
    return {
        "service": container.labels.get(SERVICE_LABEL, ""),
        "container": container.name,
        "status": state.get("Status", container.status),
        "running": bool(state.get("Running")) and not state.get("Paused"),
        "paused": bool(state.get("Paused")),
        "health": (state.get("Health") or {}).get("Status", "none"),
        "restart_count": int(attrs.get("RestartCount", 0)),
        "exit_code": state.get("ExitCode"),
        "oom_killed": bool(state.get("OOMKilled")),
        "started_at": state.get("StartedAt"),
        "image": (attrs.get("Config") or {}).get("Image", ""),
    }


def _explain(exc: Any) -> str:
    text = str(getattr(exc, "explanation", "") or exc)
    return " ".join(text.split())[:240]
