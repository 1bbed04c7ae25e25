"""The stack a batch of experiments runs against, for as long as the batch lasts.

Used by the pytest plugin: a stack that is already running is reused (and
switched to the requested profile, then switched back), otherwise one is
started for the batch and stopped when it ends. Whatever the batch did, the
stack is left as it was found.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from hubchaos.errors import HubchaosError, UserError
from hubchaos.stack.driver import DEFAULT_PROFILE, StackDriver
from hubchaos.stack.drivers import driver_for, recorded_env
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
    """Opened lazily by the first experiment; `close()` undoes what `open()` changed."""

    def __init__(
        self,
        state_dir: Path,
        profile: str | None = None,
        start: bool = True,
        progress: Callable[[str], None] | None = None,
        env: str = "local",
    ) -> None:
        self.state_dir = state_dir
        self.profile = profile  # None: whatever is running (DEFAULT_PROFILE when starting)
        self.start = start
        self.progress = progress or (lambda line: None)
        self.env = env  # the driver, as `hubchaos up --env` (hubchaos.stack.drivers.DRIVERS)
        self._stack: StackDriver | None = None
        self._env: dict[str, str] | None = None
        self._failure: HubchaosError | None = None
        self._started = False
        self._previous_profile: str | None = None
        self._saved_environ: dict[str, str | None] = {}

    def open(self) -> dict[str, str]:
        """The experiment environment, also exported into os.environ; a failure repeats as is."""
        if self._env is not None:
            return self._env
        if self._failure is not None:
            raise self._failure
        try:
            self._env = self._open()
        except HubchaosError as exc:
            self._failure = exc
            raise
        for key, value in self._env.items():
            self._saved_environ.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        return self._env

    def _driver(self) -> StackDriver:
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
            state = status.state
            if self.profile and state.profile != self.profile:
                self.progress(f"hubchaos: switching the stack to profile {self.profile}")
                self._previous_profile = state.profile
                state = stack.set_profile(self.profile)
            return experiment_environment(stack, state)
        if not self.start:
            raise UserError(f"no healthy stack in {self.state_dir}: start it with `hubchaos up`")
        profile = self.profile or DEFAULT_PROFILE
        self.progress(
            f"hubchaos: starting the {self.env} stack (profile {profile}) in {self.state_dir}"
        )
        self._started = True
        return experiment_environment(stack, stack.up(profile=profile))

    def close(self) -> None:
        """Stop a stack we started, switch back a profile we changed, restore os.environ."""
        try:
            if self._stack is not None and self._started:
                self.progress(f"hubchaos: stopping the stack started in {self.state_dir}")
                self._stack.down()
            elif self._stack is not None and self._previous_profile:
                self.progress(
                    f"hubchaos: switching the stack back to profile {self._previous_profile}"
                )
                self._stack.set_profile(self._previous_profile)
        finally:
            for key, value in self._saved_environ.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._saved_environ.clear()
            self._stack = None
            self._env = None
