"""`hubchaos run`: run experiments against the stack and exit with their verdict."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from hubchaos.errors import UserError
from hubchaos.experiments import load_valid_experiment
from hubchaos.junit import ExperimentResult, write_junit
from hubchaos.progress import ProgressLines
from hubchaos.runner import ExperimentRun, export_stack_environment, run_experiment_file
from hubchaos.verdict import ExitCode

__all__ = ["run_command"]


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
def run_command(
    experiments: tuple[str, ...],
    junit_path: str | None,
    report_dir: str | None,
    state_dir: str,
    profile: str,
    no_start: bool,
) -> None:
    """Run EXPERIMENT files against the running stack (starting it first if needed).

    Exit code: 0 passed, 1 deviated, 2 usage or invalid experiment, 3 steady
    state not met before the method, 4 an injection or probe could not run,
    5 interrupted.
    """
    for path in experiments:  # every file is checked before anything runs
        load_valid_experiment(path)
    stack = _running_stack(Path(state_dir), profile, no_start)
    export_stack_environment(stack)

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = Path(report_dir) if report_dir else Path(state_dir) / "runs" / stamp
    runs: list[ExperimentRun] = []
    for path in experiments:
        click.echo(f"hubchaos: running {path}", err=True)
        run = run_experiment_file(path, out_dir, event_handlers=[ProgressLines()])
        runs.append(run)
        click.echo(f"hubchaos: {path}: {run.verdict.summary_line}", err=True)
        click.echo(f"hubchaos: journal: {run.journal_path}", err=True)
        if run.verdict.code == ExitCode.INTERRUPTED:
            break

    if junit_path:
        write_junit([_result(run) for run in runs], junit_path)
        click.echo(f"hubchaos: JUnit: {junit_path}", err=True)
    if report_dir:
        from hubchaos.report import write_report

        for run in runs:
            for written in write_report(run.journal, Path(report_dir), stem=Path(run.path).stem):
                click.echo(f"hubchaos: report: {written}", err=True)
    sys.exit(overall_code([run.verdict.code for run in runs]))


def _running_stack(state_dir: Path, profile: str, no_start: bool) -> dict[str, str]:
    from hubchaos.stack.local import LocalStack

    stack = LocalStack(state_dir)
    # stack actions (switch profile, scale, restart) find the driver through these
    driver_env = {
        "HUBCHAOS_STATE_DIR": str(stack.state_dir),
        "HUBCHAOS_PORT_OFFSET": str(stack.port_offset),
    }
    status = stack.status()
    if status.healthy and status.state is not None:
        return {**status.state.experiment_env(), **driver_env}
    if no_start:
        raise UserError(f"no healthy stack in {state_dir}: start it with `hubchaos up`")
    click.echo(f"hubchaos: starting the local stack (profile {profile})", err=True)
    return {**stack.up(profile=profile).experiment_env(), **driver_env}


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
    )
