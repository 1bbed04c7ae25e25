"""The combined report from the journals of two real runs (tests/report/data): every
experiment's verdict, score, detection and recovery, the observations, the combined score
and its definition, graphs that a real browser draws, and no password."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from hubchaos.gameday.plan import load_plan
from hubchaos.gameday.record import GameDayRecord, Observation, StepRecord, experiment_result
from hubchaos.gameday.report import write_gameday_report
from hubchaos.gameday.report_content import SCORE_COMBINATION, gameday_score
from hubchaos.journal.facts import facts_from_journal
from hubchaos.report.outcome import RunOutcome
from hubchaos.report.plots import COLOURS
from hubchaos.report.writer import write_report
from hubchaos.score import DEFINITION, combine, score_run
from hubchaos.verdict import verdict_from_journal
from tests.gameday.conftest import REPO
from tests.report.browser import colour_pixels, render
from tests.report.conftest import load_journal

PLAN = f"""\
title: Two replays
description: The incident and the fix, side by side.
steps:
  - briefing: Read the alerts.
  - experiment: {REPO}/experiments/incident-replay.yaml
    profile: incident
    title: The 2024-01-15 settings
  - question: Which alert fired first?
  - experiment: {REPO}/experiments/incident-replay.yaml
    profile: fixed
    title: Today's settings
  - recap: Both runs.
"""
RUNS = ("incident-replay.incident", "incident-replay.fixed")


@pytest.fixture(scope="module")
def gameday_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[GameDayRecord, Path]:
    """A finished game day over two recorded real runs, and its report directory."""
    base = tmp_path_factory.mktemp("gameday-report")
    plan_path = base / "plan.yaml"
    plan_path.write_text(PLAN)
    plan = load_plan(plan_path)
    out_dir = base / "report"
    rec = GameDayRecord(plan, "interactive")
    clock = rec.started
    for step in plan.steps:
        rec.steps.append(StepRecord(step, clock, clock + timedelta(seconds=30), "done"))
        clock += timedelta(seconds=30)
    for step, run in zip(plan.experiments, RUNS, strict=True):
        journal = load_journal(run)
        directory = out_dir / f"step-{step.number:02d}-incident-replay"
        directory.mkdir(parents=True)
        journal_path = directory / "incident-replay.journal.json"
        journal_path.write_text("{}")
        outcome = RunOutcome.of(journal)
        result = experiment_result(step, step.profile or "?", outcome, 30.0, journal_path)
        files = write_report(outcome, directory, stem="incident-replay")
        rec.experiments.append(replace(result, report_files=tuple(files)))
    rec.observations += [
        Observation(rec.started + timedelta(seconds=65), 2, "Which alert fired first?",
                    "HubDBConnectionsNearLimit, I think", "terminal"),
        Observation(rec.started + timedelta(seconds=71), 2, "Which alert fired first?",
                    "see postgresql://learninghub:s3cret@db/learninghub", "terminal"),
    ]  # fmt: skip
    rec.ended = clock
    written = write_gameday_report(rec, out_dir)
    assert [p.name for p in written] == ["gameday.md", "gameday.html"]
    return rec, out_dir


def test_every_experiment_with_its_verdict_score_and_times(
    gameday_report: tuple[GameDayRecord, Path],
) -> None:
    rec, out_dir = gameday_report
    markdown = (out_dir / "gameday.md").read_text()
    assert markdown.startswith("# Game day: Two replays: deviated")
    assert "- Outcome: **deviated** (exit code 1)" in markdown
    rows = [line for line in markdown.splitlines() if re.match(r"\| [24] \|", line)]
    assert len(rows) == 2
    for row, run in zip(rows, RUNS, strict=True):
        journal = load_journal(run)
        facts = facts_from_journal(journal)
        verdict = verdict_from_journal(journal)
        assert verdict.status_word in row
        assert f"{score_run(journal).value}/100" in row
        detect = facts.seconds_to_detect()
        assert detect is not None and f"{detect:.1f} s" in row
        recover = facts.seconds_to_recover()
        assert (f"{recover:.1f} s" if recover is not None else "not seen") in row
    assert "The 2024-01-15 settings" in rows[0] and "incident" in rows[0]
    assert "**deviated** (1)" in rows[0] and "passed (0)" in rows[1]
    # the deviation is spelled out, and the first alert to fire is named per run
    assert "postgres-connections-stayed-inside-the-budget" in markdown
    first = rec.experiments[0].alerts_fired[0].alert
    assert f"Alerts, in the order they first fired after the fault: {first} (+" in markdown


def test_observations_and_the_timeline(gameday_report: tuple[GameDayRecord, Path]) -> None:
    rec, out_dir = gameday_report
    markdown = (out_dir / "gameday.md").read_text()
    observations = markdown.split("## Observations", 1)[1].split("## ", 1)[0]
    assert "Step 3: **Which alert fired first?**" in observations
    first = (rec.started + timedelta(seconds=65)).strftime("%H:%M:%S")
    assert f"| {first}." in observations and "| 01:05 | HubDBConnectionsNearLimit, I think |" in (
        observations
    )
    timeline = markdown.split("## Timeline", 1)[1].split("## ", 1)[0]
    for text in (
        "briefing: Read the alerts.",
        "step 2: first fault injected",
        "step 2: first alert firing",
        "step 4: service recovered",
        "game day ended",
    ):
        assert text in timeline


def test_the_combined_score_and_its_definition(gameday_report: tuple[GameDayRecord, Path]) -> None:
    rec, out_dir = gameday_report
    markdown = (out_dir / "gameday.md").read_text()
    expected = combine(score_run(load_journal(run)) for run in RUNS)
    assert gameday_score(rec) == expected
    assert 0 < expected.value < 100
    assert f"Resilience score of the game day: **{expected.value}/100**" in markdown
    assert f"({expected.points:g} of {expected.max_points} points over 2 experiment runs)" in (
        markdown
    )
    assert " ".join(SCORE_COMBINATION.split()) in " ".join(markdown.split())
    for name, most, _ in DEFINITION:
        assert f"**{name}** (up to {most})" in markdown


def test_links_and_graphs_point_at_files_that_exist(
    gameday_report: tuple[GameDayRecord, Path],
) -> None:
    _, out_dir = gameday_report
    markdown = (out_dir / "gameday.md").read_text()
    targets = re.findall(r"\]\(([^)]+)\)", markdown)
    assert "step-02-incident-replay/incident-replay.html" in targets
    assert "step-04-incident-replay/incident-replay-database.svg" in targets
    assert len([t for t in targets if t.endswith(".svg")]) == 4
    assert all((out_dir / target).is_file() for target in targets)


def test_no_password_reaches_the_report(gameday_report: tuple[GameDayRecord, Path]) -> None:
    _, out_dir = gameday_report
    for name, masked in (
        ("gameday.md", r"learninghub:\*\*\*@db"),
        ("gameday.html", "learninghub:***@db"),
    ):
        text = (out_dir / name).read_text()
        assert "s3cret" not in text and "hubchaos:hubchaos@" not in text
        assert masked in text


def test_the_html_renders_in_a_real_browser(
    gameday_report: tuple[GameDayRecord, Path], tmp_path: Path
) -> None:
    _, out_dir = gameday_report
    rendering = render(out_dir / "gameday.html", tmp_path)
    for section in ("summary", "experiments", "timeline", "observations", "briefings", "score"):
        assert f'<section id="{section}">' in rendering.dom, section
    assert "<h1>Game day: Two replays</h1>" in rendering.dom
    figures = re.findall(r'<figure class="plot" id="plot-([\w-]+)">', rendering.dom)
    assert figures == ["step2-database", "step2-alerts", "step4-database", "step4-alerts"]
    decoded = re.findall(r'data-decoded="(\w+)" data-width="(\d+)"', rendering.probed_dom)
    assert len(decoded) == 4 and all(ok == "true" and int(w) > 100 for ok, w in decoded)
    for colour in ("connections", "firing"):  # drawn only by those graphs
        assert colour_pixels(rendering.screenshot, COLOURS[colour]) > 50, colour
