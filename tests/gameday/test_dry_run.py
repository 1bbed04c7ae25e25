"""`--dry-run` rehearses the whole session without touching the stack; bad input exits 2."""

from __future__ import annotations

from pathlib import Path

from hubchaos.gameday.plan import load_plan
from tests.gameday.conftest import SHIPPED_PLAN, gameday, write_plan


def test_the_dry_run_prints_every_briefing_question_and_run(tmp_path: Path) -> None:
    state_dir = tmp_path / ".hubchaos"
    report_dir = tmp_path / "report"
    result = gameday(
        str(SHIPPED_PLAN), "--dry-run", "--state-dir", str(state_dir), "--report", str(report_dir),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    plan = load_plan(SHIPPED_PLAN)
    assert out.startswith(
        f"Game day (dry run, nothing runs and the stack is not touched): {plan.title}"
    )
    for step in plan.steps:
        assert f"[{step.number}/{len(plan.steps)}] " in out
        for text in step.text.splitlines():  # every line of every briefing, pause, note
            assert text.strip() in out
        for question in step.questions:
            assert f"? {question}" in out
    runs = [line.strip() for line in out.splitlines() if line.strip().startswith("would run")]
    assert len(runs) == 2
    assert runs[0].startswith("would run ../experiments/incident-replay.yaml (Incident replay")
    assert "on profile incident" in runs[0] and "on profile fixed" in runs[1]
    assert f"stack: the one running in {state_dir}, else started there with profile fixed" in out
    assert f"report: {report_dir}" in out
    assert out.rstrip().endswith("dry run done: the plan is valid (10 steps)")
    # nothing was started, written or waited for
    assert not state_dir.exists() and not report_dir.exists()
    assert "Press Enter" not in out


def test_an_invalid_plan_exits_2_with_one_line(tmp_path: Path) -> None:
    plan = write_plan(
        tmp_path,
        "title: x\nsteps:\n  - briefing: b\n  - note: n\n  - experiment: experiments/nope.yaml\n",
    )
    for extra in ([], ["--dry-run"], ["--yes"]):
        result = gameday("plan.yaml", *extra, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert line.startswith(
            "hubchaos: error: plan.yaml: steps[2].experiment: experiments/nope.yaml does not exist"
        )
    assert plan.is_file() and not (tmp_path / ".hubchaos").exists()


def test_a_missing_answers_file_exits_2(tmp_path: Path) -> None:
    write_plan(tmp_path)
    result = gameday("plan.yaml", "--observations-from", "answers.txt", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "hubchaos: error: answers.txt: no such answers file (--observations-from)"
    )


def test_help_describes_the_options(tmp_path: Path) -> None:
    result = gameday("--help", cwd=tmp_path)
    assert result.returncode == 0
    for option in ("--dry-run", "--yes", "--report", "--state-dir", "--observations-from"):
        assert option in result.stdout
