"""`hubchaos status` on the real stack: a proxy is healthy only while its upstream is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.experiments.conftest import REPO, HubStack

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def _status(hub: HubStack) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubchaos", "status", "--state-dir", str(hub.state_dir)],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _line(output: str, part: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(part))


def test_hub_web_follows_its_upstream_replica(hub_stack: HubStack) -> None:
    hub_stack.use_profile("fixed")
    healthy = _status(hub_stack)
    assert healthy.returncode == 0, healthy.stdout
    assert " healthy " in _line(healthy.stdout, "hub_web proxy")
    # hub_web balances over every replica (a shared port): its upstream is dead only
    # when none answers
    records = [hub_stack.stack.table.record(f"app-{i}") for i in (1, 2)]
    pids = [record.pid for record in records if record is not None]
    assert len(pids) == 2
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)  # alive, listening, answering nothing
    try:
        frozen = _status(hub_stack)
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    assert frozen.returncode == 1
    line = _line(frozen.stdout, "hub_web proxy")
    assert " running " in line and "upstream" in line, frozen.stdout
    assert _status(hub_stack).returncode == 0
