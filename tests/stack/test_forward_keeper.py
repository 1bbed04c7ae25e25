"""The port-forward keeper restarts kubectl when it exits, stops with its process group, and
gives up on a forward that never comes up. A small Python program stands in for kubectl:
what matters is the keeper's handling of a real child process exiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# The stand-in appends one line per start, then lives `life` seconds and exits 3.
CHILD = "import sys, time; open(sys.argv[1], 'a').write('start\\n'); time.sleep(float(sys.argv[2])); sys.exit(3)"  # noqa: E501


def _keeper(starts: Path, life_s: float, healthy_run_s: float) -> subprocess.Popen[bytes]:
    program = (
        "import sys; from hubchaos.stack.kubernetes import keeper; "
        f"keeper.HEALTHY_RUN_S = {healthy_run_s}; keeper.FIRST_PAUSE_S = 0.05; "
        "sys.exit(keeper.keep_running(sys.argv[1:]))"
    )
    argv = [sys.executable, "-c", program, sys.executable, "-c", CHILD, str(starts), str(life_s)]
    return subprocess.Popen(argv, start_new_session=True, stdout=subprocess.PIPE)


def _starts(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_a_forward_that_exits_is_started_again_until_the_group_is_stopped(
    tmp_path: Path,
) -> None:
    starts = tmp_path / "starts"
    keeper = _keeper(starts, life_s=0.3, healthy_run_s=0.2)
    try:
        deadline = time.monotonic() + 20
        while _starts(starts) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _starts(starts) >= 3, "the keeper did not restart its child"
        assert keeper.poll() is None
    finally:
        os.killpg(keeper.pid, signal.SIGTERM)  # what `hubchaos down` does
    out, _ = keeper.communicate(timeout=10)
    assert keeper.returncode == 0
    assert b"exited 3; restarting in 0.0 s" in out  # it had worked: at once
    settled = _starts(starts)
    time.sleep(0.6)
    assert _starts(starts) == settled, "a child was started after the stop"


def test_a_forward_that_never_comes_up_is_given_up_with_its_exit_code(tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    keeper = _keeper(starts, life_s=0.0, healthy_run_s=5.0)
    out, _ = keeper.communicate(timeout=30)
    assert keeper.returncode == 3
    assert _starts(starts) == 5
    assert b"giving up" in out
