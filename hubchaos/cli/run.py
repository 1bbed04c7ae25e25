"""`hubchaos run`: run experiments against the stack and exit with their verdict."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hubchaos.activity.settings import setting
from hubchaos.errors import HubchaosError, UserError
from hubchaos.experiments import load_valid_experiment
from hubchaos.ledger.run_guard import prepare_run
from hubchaos.report.junit import SKIPPED, ExperimentResult, write_junit
from hubchaos.runner import ExperimentRun, export_stack_environment, run_experiment_file
from hubchaos.verdict import ExitCode, invalid_verdict
from hubchaos.view.display import run_display, show_library_debug, wants_live_view

if TYPE_CHECKING:
    from hubchaos.stack.status import StackStatus

__all__ = ["run_command"]

SETTLE_S = 60.0  # how long a run waits for a recorded stack whose parts are not all ready


@click.command("run")
@click.argument("experiments", nargs=-1, required=True, metavar="EXPERIMENT...")
@click.option(
    "--junit", "junit_path", type=click.Path(dir_okay=False), help="Write JUnit XML here."
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False),
    help="Write journals and the report (Markdown + HTML) into this directory.",
)
@click.option(
    "--state-dir",
    default=".hubchaos",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the stack's state (stack.json) lives.",
)
@click.option(
    "--profile",
    type=click.Choice(["fixed", "incident"]),
    default="fixed",
    show_default=True,
    help="Profile used if the stack has to be started first.",
)
@click.option(
    "--no-start",
    is_flag=True,
    help="Fail instead of starting the stack when it is not running.",
)
@click.option(
    "--live/--plain",
    "live",
    default=None,
    help="Live view (a panel with phase, pool, database, latency and alerts) or plain "
    "lines with a status line every 5 s. Default: live on a terminal, plain otherwise.",
)
@click.option(
    "--verbose",
    is_flag=True,
    help="Also show the DEBUG lines of activity libraries (e.g. chaostoolkit-toxiproxy).",
)
def run_command(
    experiments: tuple[str, ...],
    junit_path: str | None,
    report_dir: str | None,
    state_dir: str,
    profile: str,
    no_start: bool,
    live: bool | None,
    verbose: bool,
) -> None:
    """Run EXPERIMENT files against the running stack (starting it first if needed).

    Exit code: 0 passed, 1 deviated, 2 usage or invalid experiment, 3 steady
    state not met before the method, 4 an injection or probe could not run,
    5 interrupted.
    """
    started = datetime.now(UTC)
    show_library_debug(verbose)
    # A running stack's HUBCHAOS_* variables are exported before validation, so
    # an `env` configuration key without a default is valid once the stack is
    # up. Without a running stack, files are validated before one is started:
    # a typo costs nothing.
    stack = _healthy_stack_environment(Path(state_dir))
    if stack is not None:
        export_stack_environment(stack)
    _validate_all(experiments, junit_path, started)
    prepare_run(Path(state_dir))  # exit 3 on faults nobody owns; SIGTERM/SIGHUP interrupt
    if stack is None:
        try:
            stack = _running_stack(Path(state_dir), profile, no_start)
        except HubchaosError as exc:
            # CI still gets one testcase per experiment, saying why none ran
            if junit_path:
                reason = f"error: the stack is not available: {exc}"
                not_run = [_not_run(path, int(ExitCode.ERROR), reason) for path in experiments]
                write_junit(not_run, junit_path, started)
            raise
        export_stack_environment(stack)
    show_live = wants_live_view(live)

    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    out_dir = Path(report_dir) if report_dir else Path(state_dir) / "runs" / stamp
    runs: list[ExperimentRun] = []
    for index, path in enumerate(experiments, start=1):
        click.echo(f"hubchaos: running {path}", err=True)
        position = f"{index}/{len(experiments)}" if len(experiments) > 1 else ""
        with run_display(
            show_live, setting("hubchaos_prometheus_url"), position=position
        ) as handlers:
            run = run_experiment_file(path, out_dir, event_handlers=handlers)
        runs.append(run)
        click.echo(f"hubchaos: {path}: {run.verdict.summary_line}", err=True)
        click.echo(f"hubchaos: journal: {run.journal_path}", err=True)
        if run.verdict.code == ExitCode.INTERRUPTED:
            break

    if junit_path:
        results = [_result(run) for run in runs]
        results += [
            _not_run(path, SKIPPED, "not run: the run was interrupted before it")
            for path in experiments[len(runs) :]
        ]
        write_junit(results, junit_path, started)
        click.echo(f"hubchaos: JUnit: {junit_path}", err=True)
    if report_dir:
        from hubchaos.report.writer import write_report

        for run in runs:
            for written in write_report(run.outcome, Path(report_dir), stem=Path(run.path).stem):
                click.echo(f"hubchaos: report: {written}", err=True)
    sys.exit(overall_code([run.verdict.code for run in runs]))


def _validate_all(experiments: tuple[str, ...], junit_path: str | None, started: datetime) -> None:
    """Every file is checked before anything runs; the first problem stops the run (exit 2)."""
    problems: dict[str, UserError] = {}
    for path in experiments:
        try:
            load_valid_experiment(path)
        except UserError as exc:
            problems[path] = exc
    if not problems:
        return
    if junit_path:
        first = next(iter(problems))
        write_junit(
            [
                _not_run(
                    path, int(ExitCode.INVALID), invalid_verdict(str(problems[path])).summary_line
                )
                if path in problems
                else _not_run(path, SKIPPED, f"not run: {first} is invalid")
                for path in experiments
            ],
            junit_path,
            started,
        )
    raise next(iter(problems.values()))


def _healthy_stack_environment(state_dir: Path) -> dict[str, str] | None:
    """The experiment variables of the stack running in `state_dir`; None when none is
    healthy (or its state cannot be read: `_running_stack` says why). Starts nothing."""
    from hubchaos.stack.drivers import open_stack
    from hubchaos.stack.session import experiment_environment

    try:
        stack = open_stack(state_dir)
        status = stack.status()
    except HubchaosError:
        return None
    if status.healthy and status.state is not None:
        return experiment_environment(stack, status.state)
    return None


def _running_stack(state_dir: Path, profile: str, no_start: bool) -> dict[str, str]:
    from hubchaos.polling import poll_until
    from hubchaos.stack.drivers import open_stack
    from hubchaos.stack.session import experiment_environment

    stack = open_stack(state_dir)  # the local processes, or the containers `up --env docker` ran
    status = stack.status()
    if status.state is not None and not status.healthy and _is_settling(status):
        # A part still running but not ready (a pod the last experiment replaced, a
        # readiness probe flapping on a loaded node) is given a moment to settle.
        click.echo(f"hubchaos: waiting up to {SETTLE_S:.0f} s for the {stack.env} stack "
                   "to become healthy", err=True)  # fmt: skip
        settled = poll_until(lambda _left: stack.status(), SETTLE_S, 1.0,
                             done=lambda seen: seen.healthy, look_at_deadline=True)  # fmt: skip
        status = settled.last()
    if status.healthy and status.state is not None:
        return experiment_environment(stack, status.state)
    if no_start:
        raise UserError(f"no healthy stack in {state_dir}: start it with `hubchaos up`")
    if status.state is not None:  # recorded, but a part is down or not ready
        sick = ", ".join(f"{part.name} {part.detail or part.state}"
                         for part in status.parts if part.state != "healthy")  # fmt: skip
        click.echo(f"hubchaos: the {stack.env} stack in {state_dir} is not healthy: {sick}",
                   err=True)  # fmt: skip
    click.echo(f"hubchaos: starting the {stack.env} stack (profile {profile})", err=True)
    return experiment_environment(stack, stack.up(profile=profile))


def _is_settling(status: StackStatus) -> bool:
    """Nothing is down: some part runs but is not ready yet."""
    return all(part.state in ("healthy", "running") for part in status.parts)


def overall_code(codes: list[int]) -> int:
    """One exit code for several experiments: an interruption wins, then the highest code."""
    if ExitCode.INTERRUPTED in codes:
        return int(ExitCode.INTERRUPTED)
    return max(codes, default=int(ExitCode.PASSED))


def _result(run: ExperimentRun) -> ExperimentResult:
    return ExperimentResult(
        name=run.title,
        file=run.path,
        code=run.verdict.code,
        summary=run.verdict.summary_line,
        details=run.verdict.details(),
        seconds=run.seconds,
        journal=str(run.journal_path),
    )


def _not_run(path: str, code: int, summary: str) -> ExperimentResult:
    """A testcase for an experiment that never started, named by its file."""
    return ExperimentResult(
        name=Path(path).stem, file=path, code=code, summary=summary, details=summary, seconds=0.0
    )
