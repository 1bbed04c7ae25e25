"""The report names what the safety control found left behind by someone else."""

from __future__ import annotations

import copy

from hubchaos.report.writer import render_markdown
from tests.report.conftest import load_journal


def test_faults_left_behind_are_named_in_the_report() -> None:
    journal = copy.deepcopy(load_journal("db-latency.fixed"))
    safety = journal["hubchaos_safety"]
    assert "left behind, removed" not in render_markdown(journal)
    safety["left_behind"] = ["toxic stray on proxy web (latency downstream)"]
    assert "left behind, removed" in render_markdown(journal)
    assert "toxic stray on proxy web (latency downstream)" in render_markdown(journal)
