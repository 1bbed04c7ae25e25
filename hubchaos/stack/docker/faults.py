"""Container faults on the docker stack: stop, start, restart, pause, unpause, kill; logs.

Mixed into DockerStack (the actions in hubchaos.actions.container call these);
each returns the container's description (hubchaos.stack.docker.containers.describe).
"""

from __future__ import annotations

import time
from typing import Any

from hubchaos.errors import UserError
from hubchaos.polling import poll_until
from hubchaos.stack.docker.config import proxy_specs
from hubchaos.stack.docker.containers import Project, describe
from hubchaos.stack.endpoints import url
from hubchaos.stack.ports import Ports
from hubchaos.stack.toxiproxy_setup import ensure_proxies

__all__ = ["STOP_TIMEOUT_S", "ContainerFaults"]

STOP_TIMEOUT_S = 10


class ContainerFaults:
    """What DockerStack can do to one service's container."""

    ports: Ports

    @property
    def project(self) -> Project:
        raise NotImplementedError

    def services(self) -> list[str]:
        raise NotImplementedError

    def _await(self, service: str, started_at: float, live_only: bool = False) -> float:
        raise NotImplementedError

    def container(self, service: str) -> Any:
        """The running stack's container of `service`, or UserError naming the choices."""
        choices = self.services()
        if service not in choices:
            raise UserError(f"unknown service '{service}': choose one of {', '.join(choices)}")
        container = self.project.container(service)
        if container is None:
            raise UserError(f"service '{service}' has no container (was the stack brought down?)")
        return container

    def stop_service(self, service: str, timeout_s: int = STOP_TIMEOUT_S) -> dict[str, Any]:
        self.container(service).stop(timeout=timeout_s)
        return describe(self.container(service))

    def start_service(
        self, service: str, wait: bool = True, live_only: bool = False
    ) -> dict[str, Any]:
        """Start (or unpause) the service; with `wait`, until it is healthy (`live_only`:
        until its process answers, even if its database is unreachable)."""
        started = time.monotonic()
        container = self.container(service)
        container.reload()
        if container.status == "paused":
            container.unpause()
        elif container.status != "running":
            container.start()
        if wait:
            self._await_again(service, started, live_only)
        return describe(container)

    def restart_service(self, service: str, wait: bool = True) -> dict[str, Any]:
        started = time.monotonic()
        container = self.container(service)
        container.restart(timeout=STOP_TIMEOUT_S)
        if wait:
            self._await_again(service, started)
        return describe(container)

    def pause_service(self, service: str) -> dict[str, Any]:
        container = self.container(service)
        container.pause()
        return describe(container)

    def unpause_service(self, service: str) -> dict[str, Any]:
        container = self.container(service)
        container.reload()
        if container.status == "paused":
            container.unpause()
        return describe(container)

    def kill_service(self, service: str, signal: str = "SIGKILL") -> dict[str, Any]:
        container = self.container(service)
        container.kill(signal=signal)
        return describe(container)

    def logs(self, service: str, tail: int = 100) -> str:
        """The last `tail` lines the service's container wrote (stdout and stderr)."""
        container = self.project.container(service)
        if container is None:
            raise UserError(f"no container for service '{service}' in project {self.project.name}")
        return str(container.logs(tail=tail, timestamps=False).decode(errors="replace"))

    def _log_tail(self, container: Any, lines: int = 3) -> str:
        try:
            text = container.logs(tail=20).decode(errors="replace")
        except Exception:  # the container may be gone already
            return ""
        last = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
        return " | ".join(last)[-400:]

    def wait_docker_healthy(self, service: str, deadline_s: float = 30.0) -> dict[str, Any]:
        """Wait until the engine's own health check of `service` passes (it runs every few
        seconds, so it lags behind the host-side check after a fault)."""
        return poll_until(
            lambda _left: describe(self.container(service)),
            deadline_s,
            0.5,
            done=lambda item: item["health"] in ("healthy", "none"),
            look_at_deadline=True,
        ).last()

    def _await_again(self, service: str, started: float, live_only: bool = False) -> None:
        """Wait for a service back from a fault; a fresh proxy server gets its proxies again."""
        self._await(service, started, live_only)
        if service == "toxiproxy":
            ensure_proxies(url(self.ports.toxiproxy), proxy_specs(), None)
