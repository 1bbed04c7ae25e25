"""A run is judged once: the verdict, facts and score the runner computed are the report's."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import hubchaos.report.outcome as outcome_module
from hubchaos.journal.facts import facts_from_journal
from hubchaos.private.redact import redact
from hubchaos.report.outcome import RunOutcome
from hubchaos.report.writer import render_markdown, write_report
from hubchaos.score import score_run
from hubchaos.verdict import verdict_from_journal
from tests.report.conftest import load_journal


def _counting(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    calls: Counter[str] = Counter()
    for name, real in (
        ("verdict_from_journal", verdict_from_journal),
        ("facts_from_journal", facts_from_journal),
        ("score_run", score_run),
    ):

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(outcome_module, name, counted)
    return calls


def test_a_report_from_the_outcome_computes_each_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = _counting(monkeypatch)
    outcome = RunOutcome.of(load_journal("incident-replay.incident"))
    assert outcome.verdict.status_word == "deviated"
    write_report(outcome, tmp_path, stem="run")
    write_report(outcome, tmp_path / "again", stem="run")
    assert calls == Counter(verdict_from_journal=1, facts_from_journal=1, score_run=1)


def test_the_outcome_says_what_each_part_says_of_the_redacted_journal() -> None:
    journal = load_journal("incident-replay.fixed")
    journal["configuration"] = {"dsn": "postgresql://hub:s3cret@127.0.0.1/db"}
    outcome = RunOutcome.of(journal)
    redacted = redact(journal)
    assert "s3cret" not in repr(outcome.journal) and "s3cret" in repr(journal)
    assert outcome.verdict == verdict_from_journal(redacted)
    assert outcome.score == score_run(redacted)
    assert outcome.facts == facts_from_journal(redacted)
    assert render_markdown(outcome) == render_markdown(journal)
