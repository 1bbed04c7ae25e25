"""Plain `chaos run` (no hubchaos CLI) works against a running local stack.

The experiment's configuration reads the HUBCHAOS_* variables, so exporting
the stack's endpoints is all a `chaos run` user has to do (with the default
ports not even that).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from hubchaos.verdict import verdict_from_journal
from tests.experiments.conftest import EXPERIMENTS, REPO, HubStack

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def test_chaos_run_of_the_incident_replay_passes_on_fixed(
    hub_stack: HubStack, tmp_path: Path
) -> None:
    hub_stack.use_profile("fixed")
    state = hub_stack.stack.state()
    assert state is not None
    journal_path = tmp_path / "journal.json"
    result = subprocess.run(
        ["chaos", "--no-log-file", "run", str(EXPERIMENTS / "incident-replay.yaml"),
         "--journal-path", str(journal_path)],
        cwd=REPO,
        env={**os.environ, **state.experiment_env()},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    journal = json.loads(journal_path.read_text())
    assert journal["status"] == "completed" and journal["deviated"] is False
    assert verdict_from_journal(journal).code == 0
    assert journal["hubchaos_safety"]["clean"] is True
    assert len(journal["hubchaos_timeline"]["samples"]) >= 20
