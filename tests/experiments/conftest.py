"""One real local stack for every experiment test, switched between profiles.

Experiments run through the real CLI (`hubchaos run`) in a subprocess, as a
user or CI would run them; the exit code is the verdict. Tests are ordered so
that every experiment runs on `fixed` first and then on `incident`, which
keeps profile switches (a replica restart each) to a minimum.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubchaos.stack.local import LocalStack
from tests.stack.conftest import free_port_offset

REPO = Path(__file__).resolve().parents[2]
EXPERIMENTS = REPO / "experiments"
RUN_TIMEOUT_S = 180  # each experiment is designed to finish in under 90 s


@dataclass
class ExperimentOutcome:
    code: int
    stdout: str
    stderr: str
    journal: dict
    out_dir: Path

    def explain(self) -> str:
        return f"exit {self.code}\n{self.stderr[-4000:]}"


class HubStack:
    """The session's stack and a way to run experiments against it."""

    def __init__(self, state_dir: Path, offset: int) -> None:
        self.state_dir = state_dir
        self.offset = offset
        self.stack = LocalStack(state_dir, port_offset=offset, progress=lambda line: None)
        self._outcomes: dict[tuple[str, str], ExperimentOutcome] = {}

    def outcome(self, experiment: str, profile: str) -> ExperimentOutcome:
        """`experiment` run once per session on `profile`, with report and JUnit.

        Several tests look at the same run (verdict, report, JUnit), so the
        run happens once, whichever test asks first.
        """
        key = (experiment, profile)
        if key not in self._outcomes:
            self.use_profile(profile)
            out_dir = self.state_dir.parent / "runs" / profile / Path(experiment).stem
            self._outcomes[key] = self.run(
                experiment, "--junit", str(out_dir / "junit.xml"), out_dir=out_dir
            )
        return self._outcomes[key]

    def use_profile(self, profile: str, replicas: int = 2) -> None:
        state = self.stack.state()
        if state is None:
            self.stack.up(profile=profile, replicas=replicas)
            return
        if state.replicas != replicas:
            self.stack.scale(replicas)
        if state.profile != profile:
            self.stack.set_profile(profile)

    def run(
        self,
        experiment: str,
        *extra: str,
        out_dir: Path | None = None,
        timeout: float = RUN_TIMEOUT_S,
    ) -> ExperimentOutcome:
        out_dir = out_dir or self.state_dir.parent / "runs" / Path(experiment).stem
        result = subprocess.run(
            [sys.executable, "-m", "hubchaos", "run", str(EXPERIMENTS / experiment),
             "--state-dir", str(self.state_dir), "--no-start", "--report", str(out_dir), *extra],
            cwd=REPO,
            env={**os.environ, "HUBCHAOS_PORT_OFFSET": str(self.offset)},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )  # fmt: skip
        journal_path = out_dir / f"{Path(experiment).stem}.journal.json"
        journal = json.loads(journal_path.read_text()) if journal_path.exists() else {}
        return ExperimentOutcome(result.returncode, result.stdout, result.stderr, journal, out_dir)


@pytest.fixture(scope="session")
def hub_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    base = tmp_path_factory.mktemp("experiments")
    hub = HubStack(base / ".hubchaos", free_port_offset())
    try:
        hub.use_profile("fixed")
        yield hub
    finally:
        hub.stack.down(purge=True)
