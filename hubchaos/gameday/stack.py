"""The stack a game day runs its experiments on, left as the game day found it.

A running, healthy stack is used as it is (local or Docker, whichever the
state directory records); otherwise a local one is started with the plan's
profile. Experiment steps may name a profile: the stack is switched to
it first (the replicas restart with the new pool settings). At the end a stack
the game day started is stopped (unless kept) and a stack it found is switched
back to the profile it had.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from hubchaos.errors import StackError
from hubchaos.stack.driver import StackDriver
from hubchaos.stack.drivers import open_stack
from hubchaos.stack.session import experiment_environment

__all__ = ["GameDayStack"]


class GameDayStack:
    def __init__(
        self,
        state_dir: Path,
        profile: str,
        replicas: int,
        keep: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.start_profile = profile
        self.replicas = replicas
        self.keep = keep
        self.progress = progress or (lambda text: None)
        self.notes: list[str] = []  # what was done to the stack, for the report
        self._stack: StackDriver | None = None
        self._started = False
        self._found_profile: str | None = None
        self._profile: str | None = None
        self._saved_environ: dict[str, str | None] = {}

    @property
    def profile(self) -> str | None:
        return self._profile

    def open(self) -> None:
        """Find the running stack or start one; StackError/UserError if that fails."""
        # the driver recorded in the state directory (local processes unless `up --env docker`)
        stack = self._stack = open_stack(self.state_dir, progress=self.progress)
        status = stack.status()
        if status.healthy and status.state is not None:
            self._found_profile = self._profile = status.state.profile
            self._note(f"used the running stack in {self.state_dir} (profile {self._profile})")
            return
        self.progress(
            f"starting the local stack (profile {self.start_profile}, "
            f"{self.replicas} replicas) in {self.state_dir}"
        )
        self._started = True
        state = stack.up(profile=self.start_profile, replicas=self.replicas)
        self._profile = state.profile
        self._note(f"started the stack in {self.state_dir} (profile {self._profile})")

    def use(self, profile: str | None) -> dict[str, str]:
        """The experiment environment for the next run, on `profile` (None: as it is).

        Also exported into os.environ, where the experiments' configuration reads it.
        """
        if self._stack is None:
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
        state = status.state
        if profile and state.profile != profile:
            self.progress(f"switching the stack from profile {state.profile} to {profile}")
            state = stack.set_profile(profile)
            self._note(f"switched the stack to profile {profile}")
        self._profile = state.profile
        env = experiment_environment(stack, state)
        for key, value in env.items():
            self._saved_environ.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        return env

    def close(self) -> None:
        """Stop what the game day started, switch back what it changed, restore os.environ."""
        stack, self._stack = self._stack, None
        try:
            if stack is None:
                return
            if self._started and not self.keep:
                self.progress(f"stopping the stack the game day started in {self.state_dir}")
                stack.down()
                self._note("stopped the stack it had started")
            elif self._started:
                self._note(f"left the stack running (profile {self._profile})")
            elif self._found_profile and self._profile != self._found_profile:
                self.progress(f"switching the stack back to profile {self._found_profile}")
                stack.set_profile(self._found_profile)
                self._note(f"switched the stack back to profile {self._found_profile}")
        finally:
            for key, value in self._saved_environ.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._saved_environ.clear()

    def _note(self, text: str) -> None:
        self.notes.append(text)
