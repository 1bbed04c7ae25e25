"""Which driver runs the stack recorded in a state directory: local processes or Docker.

`hubchaos up --env docker` records `env: docker` in stack.json (and writes
docker.json before the first container starts, so even an interrupted `up`
is found); everything else is the local stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hubchaos.errors import UserError
from hubchaos.stack.readiness import Progress
from hubchaos.stack.state import read_state

if TYPE_CHECKING:
    from hubchaos.stack.docker_env import DockerStack
    from hubchaos.stack.local import LocalStack

__all__ = ["is_docker_stack", "open_stack"]


def is_docker_stack(state_dir: Path | str) -> bool:
    root = Path(state_dir)
    if (root / "docker.json").exists():
        return True
    try:
        state = read_state(root)
    except UserError:
        return False
    return state is not None and state.env == "docker"


def open_stack(
    state_dir: Path | str, port_offset: int | None = None, progress: Progress | None = None
) -> LocalStack | DockerStack:
    """The driver of the stack in `state_dir` (LocalStack when none is recorded)."""
    if is_docker_stack(state_dir):
        from hubchaos.stack.docker_env import DockerStack

        return DockerStack(state_dir, port_offset=port_offset, progress=progress)
    from hubchaos.stack.local import LocalStack

    return LocalStack(state_dir, port_offset=port_offset, progress=progress)
