"""Journals of real runs (see data/README.md) and the reports written from them."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hubchaos.report.writer import write_report

DATA = Path(__file__).parent / "data"
RUNS = ("incident-replay.fixed", "incident-replay.incident", "db-latency.fixed")


def load_journal(run: str) -> dict[str, Any]:
    return json.loads((DATA / f"{run}.journal.json").read_text())


@pytest.fixture
def journal() -> Callable[[str], dict[str, Any]]:
    """A fresh copy of a stored real journal, free to modify."""
    cache: dict[str, dict[str, Any]] = {}

    def get(run: str) -> dict[str, Any]:
        if run not in cache:
            cache[run] = load_journal(run)
        return copy.deepcopy(cache[run])

    return get


@dataclass
class WrittenReport:
    run: str
    files: list[Path]
    out_dir: Path

    @property
    def markdown(self) -> str:
        return (self.out_dir / f"{self.run}.md").read_text()

    @property
    def html_path(self) -> Path:
        return self.out_dir / f"{self.run}.html"

    @property
    def html(self) -> str:
        return self.html_path.read_text()


@pytest.fixture(scope="session")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, WrittenReport]:
    """Every stored journal rendered once per session by `write_report`."""
    written = {}
    for run in RUNS:
        out_dir = tmp_path_factory.mktemp(run)
        written[run] = WrittenReport(run, write_report(load_journal(run), out_dir, run), out_dir)
    return written
