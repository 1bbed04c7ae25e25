"""The skeleton every stack driver shares; a driver fills in how its parts start and stop.

What is the same everywhere lives here: the state directory and its lock, the
port offset (the recorded stack's, else $HUBCHAOS_PORT_OFFSET), the profiles,
`up` refusing a different running stack and cleaning up what an interrupted
`up` left, stopping everything when `up` fails or is interrupted (Ctrl-C,
SIGTERM), and `down` waiting until the stack's ports are free again.
"""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

from hubchaos.errors import UserError
from hubchaos.polling import poll_until
from hubchaos.stack.driver import DEFAULT_STATE_DIR, DownReport
from hubchaos.stack.interrupt import sigterm_as_interrupt
from hubchaos.stack.ports import Ports, ensure_free, is_free
from hubchaos.stack.profiles import Profiles, ResolvedProfile, load_profiles
from hubchaos.stack.readiness import Progress, progress_to_stderr
from hubchaos.stack.state import (
    StackState,
    read_state,
    readable_state,
    recorded_port_offset,
    remove_state,
    write_state,
)
from hubchaos.stack.state_lock import state_lock
from hubchaos.stack.status import StackStatus

__all__ = ["BaseStack", "wait_ports_free"]


class BaseStack(ABC):
    """A hub stack under one state directory (see hubchaos.stack.driver.StackDriver)."""

    env = ""  # "local", "docker", ...: recorded in stack.json
    PORTS_RELEASE_S = 5.0  # how long `down` waits for the stack's ports to be free

    def __init__(
        self,
        state_dir: Path | str = DEFAULT_STATE_DIR,
        port_offset: int | None = None,
        progress: Progress | None = None,
        profiles: Profiles | None = None,
    ) -> None:
        self.state_dir = Path(state_dir).absolute()
        if port_offset is None:  # the stack recorded here knows its own ports best
            port_offset = recorded_port_offset(self.state_dir)
        self.port_offset = port_offset
        self.ports = Ports.with_offset(self.port_offset)
        self.progress: Progress = progress or progress_to_stderr
        self._profiles = profiles

    @property
    def profiles(self) -> Profiles:
        if self._profiles is None:
            self._profiles = load_profiles()
        return self._profiles

    @property
    def label(self) -> str:
        """How messages name this stack: "stack" (local) or "docker stack"."""
        return "stack" if self.env == "local" else f"{self.env} stack"

    @property
    def up_command(self) -> str:
        return "hubchaos up" if self.env == "local" else f"hubchaos up --env {self.env}"

    # ------------------------------------------------------- what a driver adds

    @abstractmethod
    def status(self) -> StackStatus: ...

    @abstractmethod
    def _has_running_parts(self) -> bool:
        """Whether any part of a stack started here is still alive."""

    @abstractmethod
    def _has_leftovers(self) -> bool:
        """Whether an interrupted `up` left anything (processes, containers) behind."""

    @abstractmethod
    def _teardown(self, state: StackState | None) -> list[str]:
        """Stop and remove every part (replicas first), forget stack.json; what was stopped."""

    @abstractmethod
    def _ports_to_free(self) -> dict[str, int]:
        """The ports `down` waits for (part -> port), taken before the teardown."""

    # ------------------------------------------------------------------ shared

    def state(self) -> StackState | None:
        """What stack.json says (None: no stack was brought up here; UserError: unreadable)."""
        return read_state(self.state_dir)

    def _bring_up(
        self,
        resolved: ResolvedProfile,
        start: Callable[[], StackState],
        prepare: Callable[[], None] | None = None,
    ) -> StackState:
        """Under the state lock: reuse or refuse a running stack, then `start` with cleanup.

        `prepare` runs after the ports were checked and before anything starts
        (a long image build, say); the ports are checked again after it.
        """
        with state_lock(self.state_dir):
            existing = self._already_up(resolved)
            if existing is not None:
                return existing
            ensure_free(self.ports.wanted(resolved.replicas))
            if prepare is not None:
                prepare()
                ensure_free(self.ports.wanted(resolved.replicas))
            try:
                with sigterm_as_interrupt():
                    return start()
            except BaseException:
                self.progress("up failed: stopping everything that was started")
                self._teardown(None)
                raise

    def _already_up(self, resolved: ResolvedProfile) -> StackState | None:
        state = self.state()
        if state is not None and state.env != self.env:
            raise UserError(
                f"a {state.env} stack is recorded in {self.state_dir}: run `hubchaos down` first"
            )
        if state is not None and self._has_running_parts():
            same = (state.profile, state.replicas) == (resolved.name, resolved.replicas)
            if same and self.status().healthy:
                self.progress(f"the {self.label} in {self.state_dir} is already up and healthy")
                return state
            what = (
                "not every part is healthy (see `hubchaos status`)"
                if same
                else f"with profile {state.profile}, {state.replicas} replicas"
            )
            raise UserError(
                f"a {self.label} is already running from {self.state_dir}, {what}: "
                "run `hubchaos down` first"
            )
        if self._has_leftovers():
            self.progress("cleaning up what an interrupted `up` left behind")
            self._teardown(state)
        elif state is not None:
            remove_state(self.state_dir)  # stale: every part of it is gone
        return None

    def down(self, purge: bool = False) -> DownReport:
        """Stop every part (even after an `up` that crashed halfway); purge deletes the state."""
        if not self.state_dir.exists():
            return DownReport([], {}, purged=False)
        with state_lock(self.state_dir):
            wanted = self._ports_to_free()
            stopped = self._teardown(readable_state(self.state_dir))
            # Ports are only ours to worry about if we just stopped what held them.
            busy = wait_ports_free(wanted, self.PORTS_RELEASE_S) if stopped else {}
            if purge:
                shutil.rmtree(self.state_dir, ignore_errors=True)
            return DownReport(stopped, busy, purged=purge)

    def _require_running(self) -> StackState:
        state = self.state()
        if state is None or state.env != self.env:
            raise UserError(
                f"no {self.label} is running from {self.state_dir}: run `{self.up_command}` first"
            )
        return state

    def _save(self, state: StackState, resolved: ResolvedProfile) -> StackState:
        state.profile = resolved.name
        state.budget = resolved.as_dict()
        write_state(self.state_dir, state)
        return state


def wait_ports_free(wanted: dict[str, int], deadline_s: float) -> dict[int, str]:
    """The ports still taken (port -> part) once all are free or the deadline passed."""

    def busy() -> dict[int, str]:
        return {port: part for part, port in wanted.items() if not is_free(port)}

    return poll_until(
        lambda _left: busy(), deadline_s, 0.1, done=lambda taken: not taken, look_at_deadline=True
    ).last()
