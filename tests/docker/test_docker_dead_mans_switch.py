"""The fault matrix's killed-replica case, on the docker stack: the runner is
SIGKILLed after the container kill is recorded, and the dead man's switch starts
the replica again within the lease, judged from Docker's own state.

(Runs before test_docker_stack.py, whose last test brings the stack down.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.docker.conftest import REPO, DockerHub
from tests.ledger.stack_run import run_processes

pytestmark = [pytest.mark.docker, pytest.mark.slow]

DATA = Path(__file__).parent / "data"
LEASE_S = 15.0  # the default lease
# the switch polls the lease, then starts the container: a little on top of the lease
START_SLACK_S = 5.0


def _wait_until(condition: Callable[[], bool], seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def _tail(path: Path) -> str:
    try:
        return path.read_text()[-2000:]
    except OSError as exc:
        return str(exc)


def _ledger_kinds(state_dir: Path) -> list[str]:
    kinds = []
    for path in sorted((state_dir / "ledger").glob("fault-*.json")):
        try:
            kinds.append(json.loads(path.read_text())["kind"])
        except (OSError, ValueError):
            continue  # being renamed into place or removed
    return kinds


def test_sigkill_after_a_replica_kill_starts_the_replica_again_within_the_lease(
    docker_hub: DockerHub, tmp_path: Path
) -> None:
    docker_hub.use_profile("fixed")
    project = docker_hub.stack.project

    def docker_state(service: str) -> dict:
        container = project.container(service)
        if container is None:
            return {}
        container.reload()
        return dict(container.attrs["State"])

    before = docker_state("app-2")
    assert before["Status"] == "running", before
    run = subprocess.Popen(
        [sys.executable, "-m", "hubchaos", "run", str(DATA / "kill-replica-then-wait.yaml"),
         "--state-dir", str(docker_hub.state_dir), "--no-start", "--plain",
         "--report", str(tmp_path)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen: dict = {}

    def replica_killed() -> bool:
        seen.update(docker_state("app-2"))
        return "container:kill" in _ledger_kinds(docker_hub.state_dir) and not seen.get(
            "Running", True
        )

    try:
        killed = _wait_until(replica_killed, 60)
        assert killed is not None, f"the replica was never killed: {seen}"
        run.kill()  # SIGKILL: no rollback, no clean exit; only the switch is left
        killed_at = time.monotonic()
        _, stderr = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    # read as it was seen dead: the switch may have started it again by now
    assert seen["ExitCode"] == 137, seen  # the kill happened: SIGKILL

    limit_s = LEASE_S + START_SLACK_S
    _wait_until(lambda: docker_state("app-2").get("Status") == "running", limit_s)
    seconds = time.monotonic() - killed_at
    after = docker_state("app-2")
    ledger_dir = docker_hub.state_dir / "ledger"
    assert after["Status"] == "running" and seconds <= limit_s, (
        f"app-2 not running {limit_s}s after the runner's SIGKILL: {after}\n"
        f"watchdog: {_tail(ledger_dir / 'watchdog.log')}\nrun: {stderr[-2000:]}"
    )
    assert after["StartedAt"] != before["StartedAt"]  # started again, not the old process
    assert _wait_until(lambda: _ledger_kinds(docker_hub.state_dir) == [], 30) is not None
    watchdog_log = (ledger_dir / "watchdog.log").read_text()
    assert "undid container:kill app-2" in watchdog_log
    assert _wait_until(lambda: run_processes(docker_hub) == [], 10) is not None  # type: ignore[arg-type]
    print(f"app-2 running again {seconds:.1f}s after the runner's SIGKILL")
    docker_hub.last_run_ended = time.monotonic()
