"""`hubchaos gameday PLAN.yaml`: run a facilitated game day and write its combined report."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from hubchaos.gameday.facilitation import (
    AnswersFile,
    Facilitation,
    Terminal,
    Unattended,
    read_answers_file,
)
from hubchaos.gameday.plan import load_plan
from hubchaos.gameday.recap import recap_lines
from hubchaos.gameday.rehearsal import rehearsal_lines

__all__ = ["gameday_command"]


def _progress(text: str) -> None:
    click.echo(f"hubchaos: {text}", err=True)


@click.command("gameday")
@click.argument("plan_path", metavar="PLAN.yaml")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Rehearse: validate the plan and print every briefing, question and experiment "
    "that would run, without touching the stack.",
)
@click.option(
    "--yes",
    "-y",
    "unattended",
    is_flag=True,
    help="Run unattended: briefings and pauses continue at once, questions record '(unattended)'.",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False),
    help="Directory for the combined report, the journals and each experiment's report "
    "[default: STATE_DIR/gamedays/<UTC time>].",
)
@click.option(
    "--state-dir",
    default=".hubchaos",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the stack's state (stack.json) lives.",
)
@click.option(
    "--observations-from",
    "answers_path",
    type=click.Path(dir_okay=False),
    help="Take the answers from this file instead of the terminal: one block of lines per "
    "question, in plan order, blocks separated by an empty line ('#' lines ignored). "
    "Nothing waits.",
)
@click.option(
    "--keep-stack",
    is_flag=True,
    help="Leave a stack the game day had to start running at the end (default: stop it).",
)
@click.option(
    "--live/--plain",
    "live",
    default=None,
    help="Live view or plain lines while an experiment runs "
    "[default: live on a terminal, plain otherwise].",
)
@click.option(
    "--verbose",
    is_flag=True,
    help="Also show the DEBUG lines of activity libraries (e.g. chaostoolkit-toxiproxy).",
)
def gameday_command(
    plan_path: str,
    dry_run: bool,
    unattended: bool,
    report_dir: str | None,
    state_dir: str,
    answers_path: str | None,
    keep_stack: bool,
    live: bool | None,
    verbose: bool,
) -> None:
    """Run the game day of PLAN.yaml: briefings, experiments against the stack (started
    if needed), questions whose typed answers are recorded with timestamps, and one
    combined report.

    \b
    PLAN.yaml: title, description, stack {profile, replicas} and steps, each one of
      briefing: TEXT       shown, waits for Enter
      experiment: FILE     run (path relative to the plan), optional profile: NAME
      pause: TEXT          shown, waits for Enter
      question: TEXT       (or questions: [...]) answers recorded until an empty line
      note: TEXT           shown and recorded
      recap: TEXT          shows every experiment's result so far
    and an optional title. Example: gamedays/incident-training.yaml.

    Ctrl-C stops it cleanly (faults are rolled back, the partial report is written).
    Exit code: the worst verdict of its experiments (0 passed, 1 deviated, 3 not
    steady, 4 error), 2 for an invalid plan, 5 interrupted.
    """
    plan = load_plan(plan_path)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = Path(report_dir) if report_dir else Path(state_dir) / "gamedays" / stamp
    if dry_run:
        for text in rehearsal_lines(plan, Path(state_dir), str(out_dir)):
            click.echo(text)
        return

    # chaoslib and matplotlib load only for a real game day: rehearsals and errors stay quick
    from hubchaos.gameday.conduct import conduct
    from hubchaos.gameday.report import write_gameday_report
    from hubchaos.gameday.report_content import gameday_score
    from hubchaos.stack.session import StackSession
    from hubchaos.view.display import show_library_debug

    show_library_debug(verbose)

    facilitation: Facilitation
    if answers_path:
        facilitation = AnswersFile(read_answers_file(answers_path), answers_path)
    elif unattended:
        facilitation = Unattended(None)
    else:
        facilitation = Terminal()
    # Whichever stack the state directory records (env None); a local one is started if none.
    stack = StackSession(
        Path(state_dir), start_profile=plan.profile, replicas=plan.replicas, keep=keep_stack,
        progress=_progress, env=None,
    )  # fmt: skip
    record = conduct(plan, facilitation, stack, out_dir, live=live, progress=_progress)
    written = write_gameday_report(record, out_dir)

    facilitation.say("")
    facilitation.say(f"Game day {record.status_word} (exit code {record.exit_code})")
    if record.interrupted:
        facilitation.say(f"  {record.interrupted}; the report is partial")
    if record.failure:
        facilitation.say(f"  {record.failure}")
    if record.experiments:
        for text in recap_lines(record.experiments):
            facilitation.say(text)
        facilitation.say(f"  game-day resilience score: {gameday_score(record).value}/100")
    for path in written:
        _progress(f"report: {path}")
    sys.exit(record.exit_code)
