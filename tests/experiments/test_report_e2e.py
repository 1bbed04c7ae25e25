"""Reports of real incident-replay runs (`hubchaos run --report`), fixed and incident.

The runs are the session's cached ones (`hub_stack.outcome`), shared with the
verdict and JUnit tests; this file checks what the report makes of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hubchaos.journal.facts import facts_from_journal
from hubchaos.score import score_run
from hubchaos.verdict import verdict_from_journal
from tests.experiments.conftest import ExperimentOutcome, HubStack
from tests.report.browser import check_rendering, render

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXPERIMENT = "incident-replay.yaml"
STEM = "incident-replay"
TITLE = "Incident replay: a connection flood against the learning hub"
SECTIONS = [
    "## Summary",
    "### Impact in numbers",
    "## Timeline",
    "## Graphs",
    "## Hypothesis results",
    "## Detection and recovery",
    "## What deviated",
    "## Resilience score",
    "## Safety and clean-up",
]
PLOTS = ("pool", "database", "latency", "errors", "alerts")
DSN_CREDENTIALS = re.compile(r"://([^:/@\s]+):([^@\s]+)@")


def _markdown(outcome: ExperimentOutcome) -> str:
    return (outcome.out_dir / f"{STEM}.md").read_text()


def _section(markdown: str, title: str) -> str:
    start = markdown.index(f"## {title}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end > 0 else None]


def _check_files_and_sections(outcome: ExperimentOutcome) -> str:
    expected = {f"{STEM}.md", f"{STEM}.html", "junit.xml"} | {f"{STEM}-{p}.svg" for p in PLOTS}
    present = {path.name for path in outcome.out_dir.iterdir()}
    assert expected <= present, present
    markdown = _markdown(outcome)
    positions = [markdown.index(f"{title}\n") for title in SECTIONS]
    assert positions == sorted(positions)
    return markdown


def _check_timeline_and_detection(outcome: ExperimentOutcome, markdown: str) -> None:
    rows = _section(markdown, "Timeline").splitlines()

    def row(text: str) -> int:
        return next(i for i, r in enumerate(rows) if text in r)

    assert row("injection **flood-database-logins** started") < row(
        "alert **HubDBPoolRequestsWaiting** **firing**"
    )
    detection = _section(markdown, "Detection and recovery")
    found = re.search(r"Time to detect \(.*?\): \*\*([\d.]+) s\*\*", detection)
    assert found, detection
    detect = float(found.group(1))
    assert 0 < detect <= 30
    expected = facts_from_journal(outcome.journal).seconds_to_detect()
    assert expected is not None and detect == pytest.approx(expected, abs=0.051)


def test_report_of_the_fixed_run(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "fixed")
    assert outcome.code == 0, outcome.explain()
    markdown = _check_files_and_sections(outcome)
    _check_timeline_and_detection(outcome, markdown)
    assert "Nothing" in _section(markdown, "What deviated")
    score = score_run(outcome.journal)
    assert f"Resilience score: **{score.value}/100**" in markdown
    assert score.value >= 80, score.parts  # the hypothesis held, the alert fired in time


def test_report_of_the_incident_run_names_what_deviated(hub_stack: HubStack) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "incident")
    assert outcome.code == 1, outcome.explain()
    markdown = _check_files_and_sections(outcome)
    _check_timeline_and_detection(outcome, markdown)
    deviations = verdict_from_journal(outcome.journal).deviations
    assert deviations
    section = _section(markdown, "What deviated")
    for deviation in deviations:
        assert f"probe **{deviation['probe']}** ({deviation['phase']} the faults)" in section
    assert "(environments/monitoring/RUNBOOK.md#hubdbpoolrequestswaiting)" in section
    score = score_run(outcome.journal)
    (hypothesis,) = [part for part in score.parts if part.name == "hypothesis"]
    assert hypothesis.points == 0, score.parts  # the hypothesis points are lost
    assert score.value <= 100 - hypothesis.max, score.parts


@pytest.mark.parametrize("profile", ["fixed", "incident"])
def test_no_password_reaches_a_report_file(hub_stack: HubStack, profile: str) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, profile)
    journal_text = (outcome.out_dir / f"{STEM}.journal.json").read_text()
    credentials = set(DSN_CREDENTIALS.findall(journal_text))
    assert credentials  # the run's configuration carries DSNs with passwords
    for path in outcome.out_dir.iterdir():
        if path.name.endswith((".md", ".html", ".svg", ".xml")):
            text = path.read_text()
            for user, password in credentials:
                assert f"{user}:{password}@" not in text, path.name


def test_the_html_report_renders_in_chromium(hub_stack: HubStack, tmp_path: Path) -> None:
    outcome = hub_stack.outcome(EXPERIMENT, "incident")
    rendering = render(outcome.out_dir / f"{STEM}.html", tmp_path)
    check_rendering(rendering, TITLE)
