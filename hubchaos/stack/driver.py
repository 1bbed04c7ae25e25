"""The one interface every stack driver offers (local processes, Docker, next Kubernetes).

Callers (the CLI, the stack session, stack actions) hold a `StackDriver` and
never a concrete class: `hubchaos.stack.drivers.open_stack` picks the driver a
state directory records. A new environment adds a subpackage with a class
that satisfies this protocol (most of it inherited from `BaseStack`) and one
line in `hubchaos.stack.drivers.DRIVERS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hubchaos.stack.ports import Ports
from hubchaos.stack.state import StackState
from hubchaos.stack.status import StackStatus

__all__ = [
    "DEFAULT_PROFILE",
    "DEFAULT_REPLICAS",
    "DEFAULT_STATE_DIR",
    "DownReport",
    "ServiceFaults",
    "StackDriver",
]

DEFAULT_STATE_DIR = Path(".hubchaos")
DEFAULT_PROFILE = "fixed"
DEFAULT_REPLICAS = 2


@dataclass(frozen=True)
class DownReport:
    stopped: list[str]
    busy_ports: dict[int, str]  # port -> part, for ports still taken after down
    purged: bool


class StackDriver(Protocol):
    """Start, observe, change and stop one hub stack recorded in `state_dir`.

    up(profile, replicas)   start everything and wait until healthy (driver options besides)
    status()                per-part health
    down(purge=False)       stop everything; purge also deletes the state directory
    set_profile(profile)    new pool settings + role limit; the replicas restart
    scale(replicas)         change the replica count (pool max re-derived)
    restart(component)      stop and start one part ("apps": every replica)
    state()                 the StackState of stack.json, or None
    """

    env: str  # as `hubchaos up --env` and StackState.env
    state_dir: Path
    port_offset: int
    ports: Ports

    def up(self, profile: str = ..., replicas: int = ...) -> StackState: ...

    def status(self) -> StackStatus: ...

    def down(self, purge: bool = False) -> DownReport: ...

    def set_profile(self, profile: str) -> StackState: ...

    def scale(self, replicas: int) -> StackState: ...

    def restart(self, component: str) -> StackState: ...

    def state(self) -> StackState | None: ...


class ServiceFaults(StackDriver, Protocol):
    """A driver whose services can be faulted one by one (the docker stack's containers).

    Each call returns the service's description: service, status, running,
    paused, health ("healthy", "none", ...), restarts, exit_code.
    """

    def services(self) -> list[str]: ...

    def health(self) -> list[dict[str, Any]]: ...

    def stop_service(self, service: str, timeout_s: int = ...) -> dict[str, Any]: ...

    def start_service(
        self, service: str, wait: bool = True, live_only: bool = False
    ) -> dict[str, Any]: ...

    def restart_service(self, service: str, wait: bool = True) -> dict[str, Any]: ...

    def pause_service(self, service: str) -> dict[str, Any]: ...

    def unpause_service(self, service: str) -> dict[str, Any]: ...

    def kill_service(self, service: str, signal: str = "SIGKILL") -> dict[str, Any]: ...

    def wait_docker_healthy(self, service: str, deadline_s: float = 30.0) -> dict[str, Any]: ...
