"""User mistakes are one line and exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _hubchaos(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubchaos", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_run_names_a_missing_experiment_file(tmp_path: Path) -> None:
    line = _one_line_error(_hubchaos("run", "nope.yaml", cwd=tmp_path))
    assert line == "hubchaos: error: nope.yaml: no such experiment file"


def test_run_names_the_rule_an_invalid_experiment_breaks(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("title: no description here\n")
    line = _one_line_error(_hubchaos("run", "bad.yaml", cwd=tmp_path))
    assert (
        line == "hubchaos: error: bad.yaml: invalid experiment: experiment requires a description"
    )


def test_run_names_an_activity_module_that_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "typo.yaml").write_text(
        "title: t\ndescription: d\nmethod:\n"
        "  - {type: action, name: a, provider: {type: python, module: hubchaos.actions.nope,"
        " func: f}}\n"
    )
    line = _one_line_error(_hubchaos("run", "typo.yaml", cwd=tmp_path))
    assert "could not find Python module 'hubchaos.actions.nope' in activity 'a'" in line


def test_run_validates_every_file_before_running_any(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("title: t\n")
    line = _one_line_error(
        _hubchaos(
            "run", str(REPO / "experiments" / "incident-replay.yaml"), "bad.yaml", cwd=tmp_path
        )
    )
    assert "bad.yaml: invalid experiment" in line
    assert not (tmp_path / ".hubchaos").exists()  # nothing was started


def test_run_without_a_stack_and_no_start_says_how_to_start_one(tmp_path: Path) -> None:
    result = _hubchaos(
        "run", str(REPO / "experiments" / "incident-replay.yaml"), "--no-start",
        "--state-dir", str(tmp_path / "state"), cwd=tmp_path,
    )  # fmt: skip
    line = _one_line_error(result)
    assert "no healthy stack" in line and "hubchaos up" in line


def test_report_rejects_a_file_that_is_not_a_journal(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"a": 1}')
    line = _one_line_error(_hubchaos("report", "x.json", "--out", "r", cwd=tmp_path))
    assert line == "hubchaos: error: x.json: not a Chaos Toolkit journal (no 'experiment' key)"
    line = _one_line_error(_hubchaos("report", "missing.json", "--out", "r", cwd=tmp_path))
    assert line == "hubchaos: error: missing.json: no such journal file"
