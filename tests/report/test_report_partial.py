"""Journals of runs that did not finish (Ctrl-C, a crash, no controls) still give a report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hubchaos.report.writer import write_report

Journals = Callable[[str], dict[str, Any]]


def _interrupted_during_the_method(data: dict[str, Any]) -> None:
    # what chaoslib leaves on Ctrl-C: the running activity has no end and no status
    for key in ("end", "status", "output"):
        data["run"][0].pop(key, None)
    data["status"] = "interrupted"
    for key in ("end", "duration", "rollbacks"):
        data.pop(key, None)
    data["steady_states"]["after"] = None


def _prometheus_unreachable(data: dict[str, Any]) -> None:
    for sample in data["hubchaos_timeline"]["samples"]:
        for key in list(sample):
            if key != "time":
                sample[key] = None


def _no_controls(data: dict[str, Any]) -> None:
    del data["hubchaos_timeline"], data["hubchaos_safety"]


def _no_hypothesis(data: dict[str, Any]) -> None:
    del data["experiment"]["steady-state-hypothesis"]
    data["steady_states"] = {"before": None, "after": None, "during": []}


DAMAGES = [_interrupted_during_the_method, _prometheus_unreachable, _no_controls, _no_hypothesis]


@pytest.mark.parametrize("damage", DAMAGES)
def test_partial_journals_are_reported(
    journal: Journals, tmp_path: Path, damage: Callable[[dict[str, Any]], None]
) -> None:
    data = journal("incident-replay.incident")
    damage(data)
    files = write_report(data, tmp_path, "partial")
    markdown = (tmp_path / "partial.md").read_text()
    assert markdown.startswith("# Incident replay")
    assert "## Timeline" in markdown and "## Resilience score" in markdown
    assert all(path.stat().st_size > 0 for path in files)


def test_an_interrupted_run_says_so(journal: Journals, tmp_path: Path) -> None:
    data = journal("incident-replay.incident")
    _interrupted_during_the_method(data)
    write_report(data, tmp_path, "partial")
    markdown = (tmp_path / "partial.md").read_text()
    assert markdown.splitlines()[0].endswith(": interrupted")
    assert "### After the faults\n\nNot checked: the run stopped before." in markdown
