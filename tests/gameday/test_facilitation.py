"""Answers typed at a real terminal, piped in, read from a file or left unattended are
recorded with timestamps; Ctrl-C at a prompt keeps them and writes a partial report.

The plans here have no experiment, so the stack is never touched (checked).
"""

from __future__ import annotations

import signal
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.gameday.conftest import PtySession, gameday, record, write_plan

QUESTIONS = [
    "Which alert fired first?",
    "What would you check next?",
    "Who do you call?",
]


def _times(data: dict) -> list[datetime]:
    return [datetime.fromisoformat(o["time"]) for o in data["observations"]]


def _answers(data: dict) -> list[tuple[str, str, str]]:
    return [(o["question"], o["text"], o["source"]) for o in data["observations"]]


def test_answers_typed_at_a_terminal_are_recorded_line_by_line(tmp_path: Path) -> None:
    write_plan(tmp_path)
    session = PtySession(["plan.yaml", "--report", "report"], cwd=tmp_path)
    try:
        session.expect("Welcome to the tabletop.")
        session.expect("Press Enter to continue")
        session.type("\n")
        session.expect("? Which alert fired first?")
        session.expect("> ")
        session.type("HubDBPoolRequestsWaiting, then HubDBConnectionsNearLimit\n")
        session.expect("> ")
        time.sleep(1.0)  # the second line is typed a second later: its timestamp says so
        session.type("password=hunter2 was on the whiteboard\n")
        session.expect("> ")
        session.type("\n")
        session.expect("Look at the dashboards.")
        session.expect("Press Enter to continue")
        session.type("\n")
        session.expect("? What would you check next?")
        session.expect("> ")
        session.type("pg_stat_activity by application_name\n")
        session.expect("> ")
        session.type("\n")
        session.expect("? Who do you call?")
        session.expect("> ")
        session.type("\n")  # nobody answers
        code = session.wait()
    finally:
        session.close()
    assert code == 0, session.output
    assert "Game day passed (exit code 0)" in session.output

    data = record(tmp_path / "report")
    assert data["mode"] == "interactive" and data["status"] == "passed"
    assert _answers(data) == [
        (QUESTIONS[0], "HubDBPoolRequestsWaiting, then HubDBConnectionsNearLimit", "terminal"),
        (QUESTIONS[0], "password=*** was on the whiteboard", "terminal"),
        (QUESTIONS[1], "pg_stat_activity by application_name", "terminal"),
        (QUESTIONS[2], "(no answer)", "none"),
    ]
    assert [o["step"] for o in data["observations"]] == [1, 1, 3, 3]
    times = _times(data)
    started, ended = datetime.fromisoformat(data["started"]), datetime.fromisoformat(data["ended"])
    assert started <= times[0] < times[1] < times[2] <= times[3] <= ended
    # stamped when typed, not when the answer ended: a second apart (tolerance for load)
    assert (times[1] - times[0]).total_seconds() >= 0.9

    markdown = (tmp_path / "report" / "gameday.md").read_text()
    html = (tmp_path / "report" / "gameday.html").read_text()
    assert "HubDBPoolRequestsWaiting, then HubDBConnectionsNearLimit" in markdown
    assert "HubDBPoolRequestsWaiting, then HubDBConnectionsNearLimit" in html
    assert times[0].strftime("%H:%M:%S") in markdown
    assert "hunter2" not in markdown + html + (tmp_path / "report" / "gameday.json").read_text()
    assert "Observations typed: 3 (questions asked: 3)" in markdown
    assert not (tmp_path / ".hubchaos").exists()  # no experiment: the stack was left alone


def test_answers_piped_in_and_the_end_of_input(tmp_path: Path) -> None:
    write_plan(tmp_path)
    # Enter for the briefing, two answer lines, end of answer, Enter for the pause,
    # one answer; then the pipe ends in the middle of the game day
    answers = "\nfirst alert: HubDBPoolSaturated\nsecond: HubHighErrorRate\n\n\nthe pool metrics\n"
    result = gameday("plan.yaml", "--report", "report", cwd=tmp_path, stdin=answers)
    assert result.returncode == 0, result.stderr
    assert "(input ended: the rest of the game day continues unattended)" in result.stdout
    data = record(tmp_path / "report")
    assert _answers(data) == [
        (QUESTIONS[0], "first alert: HubDBPoolSaturated", "terminal"),
        (QUESTIONS[0], "second: HubHighErrorRate", "terminal"),
        (QUESTIONS[1], "the pool metrics", "terminal"),
        (QUESTIONS[2], "(no answer: input ended)", "no-input"),
    ]
    assert [s["outcome"] for s in data["steps"]] == [
        "shown", "2 observations typed", "continued", "1 observation typed", "noted",
        "showed 0 experiment results",
    ]  # fmt: skip


def test_unattended_runs_record_every_question_as_unattended(tmp_path: Path) -> None:
    write_plan(tmp_path)
    result = gameday("plan.yaml", "--yes", "--report", "report", cwd=tmp_path, stdin=None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("(unattended: continuing)") == 2  # briefing and pause
    data = record(tmp_path / "report")
    assert data["mode"] == "unattended"
    assert _answers(data) == [(q, "(unattended)", "unattended") for q in QUESTIONS]
    markdown = (tmp_path / "report" / "gameday.md").read_text()
    assert "Facilitation: unattended" in markdown and "(unattended)" in markdown


def test_answers_from_a_file(tmp_path: Path) -> None:
    write_plan(tmp_path)
    (tmp_path / "answers.txt").write_text(
        "# Which alert fired first?\nHubDBPoolRequestsWaiting\n\n\n# next\ncheck the pool\n"
        "and pg_stat_activity\n"
    )
    result = gameday(
        "plan.yaml", "--observations-from", "answers.txt", "--report", "report", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    data = record(tmp_path / "report")
    assert data["mode"] == "answers from answers.txt"
    assert _answers(data) == [
        (QUESTIONS[0], "HubDBPoolRequestsWaiting", "file"),
        (QUESTIONS[1], "check the pool", "file"),
        (QUESTIONS[1], "and pg_stat_activity", "file"),
        (QUESTIONS[2], "(unattended)", "unattended"),  # the file had no third block
    ]


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupted_at_a_prompt(tmp_path: Path, how: str) -> None:
    write_plan(tmp_path)
    session = PtySession(["plan.yaml", "--report", "report"], cwd=tmp_path)
    try:
        session.expect("Press Enter to continue")
        session.type("\n")
        session.expect("> ")
        session.type("the pool is full\n")
        session.expect("> ")
        if how == "ctrl-c":
            session.type("\x03")  # the terminal turns it into SIGINT
        else:
            session.process.send_signal(signal.SIGTERM)
        code = session.wait()
    finally:
        session.close()
    assert code == 5, session.output
    assert "Game day interrupted (exit code 5)" in session.output
    assert "Traceback" not in session.output
    data = record(tmp_path / "report")
    assert data["status"] == "interrupted" and data["exit_code"] == 5
    assert data["interrupted"] == "interrupted at step 2/6 (question: Which alert fired first?)"
    assert _answers(data) == [(QUESTIONS[0], "the pool is full", "terminal")]
    assert [s["outcome"] for s in data["steps"]] == ["shown", "interrupted"]
    markdown = (tmp_path / "report" / "gameday.md").read_text()
    assert "this report is partial" in markdown and "the pool is full" in markdown
    assert "steps done: 2 of 6" in markdown
