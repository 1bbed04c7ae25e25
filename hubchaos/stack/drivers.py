"""Which driver runs the stack recorded in a state directory, and the one factory of drivers.

`hubchaos up --env docker` records `env: docker` in stack.json (and writes
docker.json before the first container starts, so even an interrupted `up`
is found); everything else is the local stack.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, cast

from hubchaos.errors import UserError
from hubchaos.stack.driver import ServiceFaults, StackDriver
from hubchaos.stack.readiness import Progress
from hubchaos.stack.state import read_state

if TYPE_CHECKING:  # mypy checks here that the drivers of DRIVERS satisfy the interface
    from hubchaos.stack.docker.stack import DockerStack
    from hubchaos.stack.local.stack import LocalStack

    def _conforms(
        local: LocalStack, docker: DockerStack
    ) -> tuple[StackDriver, StackDriver, ServiceFaults]:
        return local, docker, docker


__all__ = [
    "DRIVERS",
    "SERVICE_FAULT_ENVS",
    "driver_for",
    "open_service_faults",
    "open_stack",
    "recorded_env",
]

# env name -> "module:class"; imported only when used (the Docker SDK is heavy).
DRIVERS = {
    "local": "hubchaos.stack.local.stack:LocalStack",
    "docker": "hubchaos.stack.docker.stack:DockerStack",
    "kubernetes": "hubchaos.stack.kubernetes.stack:KubernetesStack",
}
# The environments whose driver is also a ServiceFaults (container faults).
SERVICE_FAULT_ENVS = ("docker",)


def recorded_env(state_dir: Path | str) -> str | None:
    """The env of the stack recorded in `state_dir` (None: nothing recorded there)."""
    root = Path(state_dir)
    if (root / "docker.json").exists():
        return "docker"
    if (root / "kubernetes.json").exists():
        return "kubernetes"
    try:
        state = read_state(root)
    except UserError:
        return "local"  # an unreadable stack.json: the local driver cleans it up
    return state.env if state is not None else None


def driver_for(
    env: str,
    state_dir: Path | str,
    port_offset: int | None = None,
    progress: Progress | None = None,
) -> StackDriver:
    """A driver of environment `env` for `state_dir`."""
    if env not in DRIVERS:
        raise UserError(f"unknown stack environment '{env}': choose one of {', '.join(DRIVERS)}")
    module_name, class_name = DRIVERS[env].split(":")
    driver_class = getattr(importlib.import_module(module_name), class_name)
    driver: StackDriver = driver_class(state_dir, port_offset=port_offset, progress=progress)
    return driver


def open_stack(
    state_dir: Path | str, port_offset: int | None = None, progress: Progress | None = None
) -> StackDriver:
    """The driver of the stack in `state_dir` (the local one when none is recorded)."""
    env = recorded_env(state_dir) or "local"
    return driver_for(env, state_dir, port_offset=port_offset, progress=progress)


def open_service_faults(
    state_dir: Path | str, progress: Progress | None = None
) -> ServiceFaults | None:
    """The driver of the stack in `state_dir` if its services can be faulted one by one."""
    env = recorded_env(state_dir)
    if env not in SERVICE_FAULT_ENVS:
        return None
    return cast(ServiceFaults, driver_for(env, state_dir, progress=progress))
