"""The timeouts control really stops an activity at its declared `timeout`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _experiment(tmp_path: Path, seconds: float, timeout: float) -> Path:
    experiment = {
        "title": "a slow action",
        "description": "an action that sleeps longer than its timeout",
        "controls": [
            {
                "name": "timeouts",
                "provider": {"type": "python", "module": "hubchaos.controls.timeouts"},
            }
        ],
        "method": [
            {
                "type": "action",
                "name": "sleep",
                "timeout": timeout,
                "provider": {
                    "type": "python",
                    "module": "tests.runner.sleepy",
                    "func": "sleep_for",
                    "arguments": {"seconds": seconds},
                },
            }
        ],
    }
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(experiment))
    return path


def _chaos_run(tmp_path: Path, experiment: Path) -> dict:
    journal = tmp_path / "journal.json"
    subprocess.run(
        ["chaos", "--no-log-file", "run", str(experiment), "--journal-path", str(journal)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        timeout=60,
        check=False,
    )
    return json.loads(journal.read_text())


def test_an_activity_past_its_timeout_fails_at_the_timeout(tmp_path: Path) -> None:
    journal = _chaos_run(tmp_path, _experiment(tmp_path, seconds=20, timeout=1))
    (run,) = journal["run"]
    assert run["status"] == "failed"
    assert "exceeded its timeout of 1s" in run["exception"][-1]
    assert 0.9 <= run["duration"] < 5  # stopped at the timeout, not after 20 s


def test_an_activity_within_its_timeout_is_untouched(tmp_path: Path) -> None:
    journal = _chaos_run(tmp_path, _experiment(tmp_path, seconds=0.2, timeout=5))
    (run,) = journal["run"]
    assert run["status"] == "succeeded"
    assert run["output"] == 0.2


def test_the_timeout_is_not_left_armed_for_later_code(tmp_path: Path) -> None:
    # a sleep after the activity would be killed by a stale SIGALRM
    code = (
        "import time, signal;"
        "from hubchaos.controls import timeouts;"
        "timeouts.before_activity_control({'name': 'x', 'timeout': 0.5});"
        "timeouts.after_activity_control({'name': 'x'});"
        "time.sleep(1.0);"
        "print(signal.getitimer(signal.ITIMER_REAL))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(0.0, 0.0)"
