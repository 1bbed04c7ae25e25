"""JUnit from `hubchaos run` when nothing could run: one testcase per experiment, saying why.

CI reads the JUnit file whatever the exit code; without it a broken
experiment or a stack that did not come up would show as "no tests".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.experiments.conftest import EXPERIMENTS, REPO
from tests.experiments.junit_shape import check_junit

INVALID = """\
version: 1.0.0
title: An action without a provider
description: Rejected by validation before anything runs.
method:
  - name: half-an-action
    type: action
"""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubchaos", "run", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_invalid_experiment_is_an_error_and_the_others_are_skipped(tmp_path: Path) -> None:
    invalid = tmp_path / "half-an-action.yaml"
    invalid.write_text(INVALID)
    junit = tmp_path / "out" / "junit.xml"
    valid = str(EXPERIMENTS / "incident-replay.yaml")
    result = _run(valid, str(invalid), "--junit", str(junit), "--no-start", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "invalid experiment" in result.stderr
    assert "Traceback" not in result.stderr
    first, second = check_junit(junit)
    (skipped,) = list(first)
    assert skipped.tag == "skipped" and first.get("file") == valid
    assert skipped.get("message") == f"not run: {invalid} is invalid"
    (error,) = list(second)
    assert error.tag == "error" and error.get("type") == "invalid"
    assert "invalid experiment" in (error.get("message") or "")
    assert "half-an-action" in (error.text or "")
    assert not (tmp_path / ".hubchaos").exists()  # nothing started, nothing ran


def test_no_stack_is_an_error_for_every_experiment(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    experiments = [str(EXPERIMENTS / "incident-replay.yaml"), str(EXPERIMENTS / "db-latency.yaml")]
    state_dir = tmp_path / "no-stack-here"
    result = _run(
        *experiments, "--junit", str(junit), "--no-start", "--state-dir", str(state_dir), cwd=REPO
    )
    assert result.returncode == 2, result.stderr
    assert f"no healthy stack in {state_dir}" in result.stderr
    cases = check_junit(junit)
    assert [case.get("file") for case in cases] == experiments
    for case in cases:
        (error,) = list(case)
        assert error.tag == "error" and error.get("type") == "error"
        assert (error.get("message") or "").startswith("error: the stack is not available: ")
