"""Every shipped experiment is a plain Chaos Toolkit file that `chaos validate` accepts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "experiments").rglob("*.yaml"))


def test_experiments_are_shipped() -> None:
    names = {path.stem for path in SHIPPED}
    assert {"incident-replay"} <= names


@pytest.mark.parametrize("experiment", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_chaos_validate_accepts(experiment: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        ["chaos", "--no-log-file", "validate", str(experiment)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "experiment syntax and semantic look valid" in (result.stdout + result.stderr)


@pytest.mark.parametrize("experiment", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_experiment_is_tied_to_the_incident(experiment: Path) -> None:
    text = experiment.read_text()
    assert "2024-01-15" in text or "follow-up" in text, "tie the experiment to the incident"
    for control in ("hubchaos.controls.safety", "hubchaos.controls.timeline"):
        assert control in text
