"""One real docker hub stack (offline images) for the tests marked `docker`.

It is started through the real CLI, `hubchaos up --env docker --offline`,
under a free port offset (its own compose project), and brought down with
`hubchaos down --purge` at the end, which must leave no container behind.

Without a Docker engine these tests are skipped with the reason shown, unless
HUBCHAOS_REQUIRE_DOCKER=1 (CI sets it after scripts/docker-setup): then they
fail loudly, so a docker run never passes without an engine.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hubchaos.errors import UserError
from hubchaos.stack.docker.containers import PROJECT_LABEL, connect
from hubchaos.stack.docker.images import BASE_IMAGE
from hubchaos.stack.docker.stack import DockerStack, docker_project_name
from hubchaos.stack.ports import Ports, is_free
from tests.stack.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
EXPERIMENTS = REPO / "experiments"
REQUIRE_ENV = "HUBCHAOS_REQUIRE_DOCKER"
UP_TIMEOUT_S = 280.0
RUN_TIMEOUT_S = 150.0
LOOKBACK_S = 12.0  # the experiments' steady-state probes look back 10 s


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"DOCKER TESTS CANNOT RUN: {reason} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(f"{reason}: scripts/docker-setup starts an engine and builds the images")


@dataclass
class Outcome:
    code: int
    stderr: str
    journal: dict = field(default_factory=dict)

    def explain(self) -> str:
        return f"exit {self.code}\n{self.stderr[-3000:]}"


@dataclass
class DockerHub:
    state_dir: Path
    offset: int
    up_seconds: float
    up_output: str
    last_run_ended: float = 0.0

    @property
    def stack(self) -> DockerStack:
        return DockerStack(self.state_dir, progress=lambda line: None)

    @property
    def configuration(self) -> dict[str, str]:
        """What activities need to find this stack when called in-process."""
        state = self.stack.state()
        assert state is not None
        return {
            "hubchaos_state_dir": str(self.state_dir),
            **{key.lower(): value for key, value in state.experiment_env().items()},
        }

    def use_profile(self, profile: str, fresh: bool = False) -> None:
        """Switch to `profile`; `fresh` recreates the replicas even on the same profile."""
        state = self.stack.state()
        assert state is not None, "the docker stack is gone"
        if fresh or state.profile != profile:
            self.stack.set_profile(profile)

    def run(self, experiment: str, profile: str) -> Outcome:
        """`experiment` against this stack on `profile` through the real `hubchaos run`.

        Each run starts from fresh replicas (an earlier flood leaves pools full
        on `incident`) and after the hypothesis' look-back window, so the
        steady state before the method judges this run, not the previous one.
        """
        self.use_profile(profile, fresh=True)
        quiet_until = self.last_run_ended + LOOKBACK_S
        time.sleep(max(0.0, quiet_until - time.monotonic()))
        out_dir = self.state_dir.parent / "runs" / profile / Path(experiment).stem
        result = subprocess.run(
            [sys.executable, "-m", "hubchaos", "run", str(EXPERIMENTS / experiment),
             "--state-dir", str(self.state_dir), "--no-start", "--report", str(out_dir)],
            cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
        )  # fmt: skip
        self.last_run_ended = time.monotonic()
        journal_path = out_dir / f"{Path(experiment).stem}.journal.json"
        journal = json.loads(journal_path.read_text()) if journal_path.exists() else {}
        return Outcome(result.returncode, result.stderr, journal)


def low_port_offset() -> int:
    """A free offset that keeps every port below Linux's ephemeral range (32768-60999),
    where any outgoing connection could take one while the stack starts."""
    rng = random.Random()
    for _ in range(200):
        offset = rng.randrange(1000, 13000, 10)
        wanted = Ports.with_offset(offset).wanted(4)
        if all(is_free(port) for port in wanted.values()):
            return offset
    raise RuntimeError("no free port offset found for the docker test stack")


def project_containers(project: str) -> list[str]:
    client = connect()
    found = client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})
    return [container.name for container in found]


@pytest.fixture(scope="session")
def docker_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerHub]:
    try:
        client = connect()
    except UserError as exc:
        _unavailable(str(exc))
    if not client.images.list(name=BASE_IMAGE):
        _unavailable(f"the offline base image {BASE_IMAGE} is missing")
    # Images first (a no-op when they are current): ports are picked right before `up`.
    DockerStack(progress=lambda line: None).build_images(offline=True)
    base = tmp_path_factory.mktemp("docker")
    state_dir = base / ".hubchaos"
    offset = low_port_offset()
    started = time.monotonic()
    result = run_cli(
        "up", "--env", "docker", "--offline", "--port-offset", str(offset),
        "--state-dir", str(state_dir), cwd=base, timeout=UP_TIMEOUT_S,
    )  # fmt: skip
    seconds = time.monotonic() - started
    hub = DockerHub(state_dir, offset, seconds, result.stdout + result.stderr)
    try:
        assert result.returncode == 0, f"hubchaos up --env docker failed:\n{hub.up_output[-3000:]}"
        yield hub
    finally:
        run_cli("down", "--purge", "--state-dir", str(state_dir), cwd=base, timeout=120)
        leftovers = project_containers(docker_project_name(offset))
        for name in leftovers:  # never leave a container running, even after a failed down
            subprocess.run(
                ["docker", "rm", "-f", name], capture_output=True, timeout=60, check=False
            )
        assert not leftovers, f"`hubchaos down` left containers behind: {leftovers}"
