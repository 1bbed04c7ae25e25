"""The stack a batch of experiments (a pytest session, a game day) runs against.

A running, healthy stack is reused; otherwise one is started (unless
`start=False`). The batch may ask for a profile when it opens the session (`profile`) and
for another before each experiment (`use`): the stack is switched, its
replicas restart with the new pool settings. `close()` leaves the stack as it
was found: a stack the session started is stopped (unless `keep`), a stack it
found is switched back to the profile it had, and os.environ is restored.
`notes` says what was done to the stack, for a report.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from hubchaos.errors import HubchaosError, StackError, UserError
from hubchaos.stack.driver import DEFAULT_PROFILE, DEFAULT_REPLICAS, StackDriver
from hubchaos.stack.drivers import driver_for, open_stack, recorded_env
from hubchaos.stack.state import StackState

__all__ = ["DEFAULT_PROFILE", "StackSession", "experiment_environment"]


def experiment_environment(stack: StackDriver, state: StackState) -> dict[str, str]:
    """What experiments read (DESIGN §4 keys) plus what stack actions need to find the driver."""
    return {
        **state.experiment_env(),
        "HUBCHAOS_STATE_DIR": str(stack.state_dir),
        "HUBCHAOS_PORT_OFFSET": str(stack.port_offset),
    }


class StackSession:
    """Opened lazily by the first experiment; `close()` undoes what the session changed."""

    def __init__(
        self,
        state_dir: Path,
        profile: str | None = None,
        start: bool = True,
        progress: Callable[[str], None] | None = None,
        env: str | None = "local",
        replicas: int = DEFAULT_REPLICAS,
        keep: bool = False,
        start_profile: str | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.wanted_profile = profile  # None: whatever runs (DEFAULT_PROFILE when starting)
        self.start = start
        self.progress = progress or (lambda line: None)
        # The driver, as `hubchaos up --env`; None: whichever the state directory records.
        self.env = env
        # When the session starts the stack: with this profile and replica count.
        self.start_profile = start_profile or profile or DEFAULT_PROFILE
        self.replicas = replicas
        self.keep = keep  # leave a stack the session started running
        self.notes: list[str] = []
        self._stack: StackDriver | None = None
        self._env: dict[str, str] | None = None
        self._failure: HubchaosError | None = None
        self._started = False
        self._found_profile: str | None = None
        self._profile: str | None = None
        self._saved_environ: dict[str, str | None] = {}

    @property
    def profile(self) -> str | None:
        """The profile the stack runs now (None before `open`)."""
        return self._profile

    def open(self) -> dict[str, str]:
        """The experiment environment, also exported into os.environ; a failure repeats as is."""
        if self._env is not None:
            return self._env
        if self._failure is not None:
            raise self._failure
        try:
            self._export(self._open())
        except HubchaosError as exc:
            self._failure = exc
            raise
        assert self._env is not None
        return self._env

    def use(self, profile: str | None) -> dict[str, str]:
        """The experiment environment for the next experiment, on `profile` (None: as it is)."""
        self.open()
        stack = self._stack
        assert stack is not None
        status = stack.status()
        if not status.healthy or status.state is None:
            unhealthy = ", ".join(p.name for p in status.parts if p.state != "healthy")
            raise StackError(
                "stack",
                f"not healthy ({unhealthy or 'not running'}): "
                f"see `hubchaos status --state-dir {self.state_dir}`",
            )
        return self._export(
            experiment_environment(stack, self._switch(stack, status.state, profile))
        )

    def close(self) -> None:
        """Stop what the session started, switch back what it changed, restore os.environ."""
        stack, self._stack = self._stack, None
        try:
            if stack is None:
                return
            if self._started and not self.keep:
                self.progress(f"hubchaos: stopping the stack started in {self.state_dir}")
                stack.down()
                self.notes.append("stopped the stack it had started")
            elif self._started:
                self.notes.append(f"left the stack running (profile {self._profile})")
            elif self._found_profile and self._profile != self._found_profile:
                self.progress(
                    f"hubchaos: switching the stack back to profile {self._found_profile}"
                )
                stack.set_profile(self._found_profile)
                self.notes.append(f"switched the stack back to profile {self._found_profile}")
        finally:
            for key, value in self._saved_environ.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._saved_environ.clear()
            self._env = None

    def _driver(self) -> StackDriver:
        if self.env is None:
            return open_stack(self.state_dir, progress=self.progress)
        recorded = recorded_env(self.state_dir)
        if recorded is not None and recorded != self.env:
            raise UserError(
                f"the stack in {self.state_dir} runs with env {recorded}, not {self.env}: "
                f"choose env {recorded} or another state directory"
            )
        return driver_for(self.env, self.state_dir, progress=self.progress)

    def _open(self) -> dict[str, str]:
        stack = self._stack = self._driver()
        status = stack.status()
        if status.healthy and status.state is not None:
            self._found_profile = self._profile = status.state.profile
            self.notes.append(
                f"used the running stack in {self.state_dir} (profile {self._profile})"
            )
            return experiment_environment(stack, self._switch(stack, status.state, None))
        if not self.start:
            raise UserError(f"no healthy stack in {self.state_dir}: start it with `hubchaos up`")
        profile = self.start_profile
        self.progress(
            f"hubchaos: starting the {self.env or 'local'} stack (profile {profile}, "
            f"{self.replicas} replicas) in {self.state_dir}"
        )
        self._started = True
        state = stack.up(profile=profile, replicas=self.replicas)
        self._profile = state.profile
        self.notes.append(f"started the stack in {self.state_dir} (profile {self._profile})")
        return experiment_environment(stack, state)

    def _switch(self, stack: StackDriver, state: StackState, profile: str | None) -> StackState:
        """`state` switched to `profile` (else to the session's wanted profile, if any)."""
        wanted = profile or self.wanted_profile
        if wanted and state.profile != wanted:
            self.progress(f"hubchaos: switching the stack to profile {wanted}")
            state = stack.set_profile(wanted)
            self.notes.append(f"switched the stack to profile {wanted}")
        self._profile = state.profile
        return state

    def _export(self, env: dict[str, str]) -> dict[str, str]:
        for key, value in env.items():
            self._saved_environ.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        self._env = env
        return env
