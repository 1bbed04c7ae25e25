"""`hubchaos recover`, `hubchaos abort`, and the fault checks `status` and `run` share."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hubchaos.activity.settings import setting
from hubchaos.ledger.lease import owner_holds_lease
from hubchaos.ledger.recovery import abort_runners, recover, unowned_faults
from hubchaos.ledger.server import differences, snapshot
from hubchaos.ledger.store import FaultLedger
from hubchaos.ledger.undo import UndoFailed

__all__ = ["abort_command", "fault_report", "recover_command", "refuse_unowned_faults"]

STATE_DIR_OPTION = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".hubchaos"),
    show_default=True,
    help="State directory of the stack (its stack.json and fault ledger).",
)
TOXIPROXY_OPTION = click.option(
    "--toxiproxy-url",
    default=None,
    help="Toxiproxy API to check (default: the stack's, else HUBCHAOS_TOXIPROXY_URL).",
)
EXIT_NOT_CLEAN = 3


def recorded_toxiproxy_url(state_dir: Path) -> str | None:
    """The Toxiproxy API recorded in the state directory's stack.json, if any."""
    try:
        from hubchaos.stack.drivers import open_stack

        state = open_stack(state_dir, progress=lambda line: None).state()
    except Exception:  # a broken stack.json must not stop a recovery
        return None
    return state.toxiproxy_url if state is not None else None


def toxiproxy_url_of(state_dir: Path, given: str | None = None) -> str:
    """The stack's Toxiproxy API: given, else stack.json's, else the setting."""
    return given or recorded_toxiproxy_url(state_dir) or setting("hubchaos_toxiproxy_url")


def _print_recovery(ledger: FaultLedger, url: str) -> bool:
    result = recover(ledger, url)
    for line in result.undone:
        click.echo(f"undone (ledger): {line}")
    for line in result.removed:
        click.echo(f"removed (owned by no run): {line}")
    for line in result.errors:
        click.echo(f"could not undo: {line}", err=True)
    if not (result.undone or result.removed or result.errors):
        click.echo("nothing to recover: the stack is at its baseline")
    elif result.clean:
        click.echo("the stack is back at its baseline")
    return result.clean


@click.command("recover")
@STATE_DIR_OPTION
@TOXIPROXY_OPTION
def recover_command(state_dir: Path, toxiproxy_url: str | None) -> None:
    """Undo every fault in the ledger, then remove any toxic or disabled proxy nobody owns.

    Exit status: 0 when the stack is back at its baseline, 1 when something
    could not be undone (it stays in the ledger: run recover again).
    """
    ledger = FaultLedger(state_dir.resolve())
    sys.exit(0 if _print_recovery(ledger, toxiproxy_url_of(state_dir, toxiproxy_url)) else 1)


@click.command("abort")
@STATE_DIR_OPTION
@TOXIPROXY_OPTION
@click.option(
    "--grace",
    default=20.0,
    show_default=True,
    type=click.FloatRange(0, 600),
    help="Seconds a run gets to roll back and write its journal before it is killed.",
)
def abort_command(state_dir: Path, toxiproxy_url: str | None, grace: float) -> None:
    """Stop the experiment running on this stack now (from another terminal) and recover.

    The run gets SIGTERM (it rolls back and writes its journal, exit 5), then
    SIGKILL after --grace seconds; whatever is left is undone as `recover` does.
    """
    ledger = FaultLedger(state_dir.resolve())
    ended, killed = abort_runners(ledger, grace, say=click.echo)
    if not ended and not killed:
        click.echo("no run is active on this stack")
    sys.exit(0 if _print_recovery(ledger, toxiproxy_url_of(state_dir, toxiproxy_url)) else 1)


def refuse_unowned_faults(state_dir: Path, toxiproxy_url: str) -> None:
    """Exit 3 naming every fault on the stack that no running experiment owns."""
    try:
        faults = unowned_faults(FaultLedger(state_dir.resolve()), toxiproxy_url)
    except UndoFailed:
        return  # an unreachable Toxiproxy is for the steady-state check to report
    if not faults:
        return
    for fault in faults:
        click.echo(f"hubchaos: fault owned by no run: {fault.describe()}", err=True)
    click.echo(
        "hubchaos: error: the stack is not at its baseline; "
        f"run `hubchaos recover --state-dir {state_dir}` first",
        err=True,
    )
    sys.exit(EXIT_NOT_CLEAN)


def fault_report(state_dir: Path, toxiproxy_url: str | None) -> tuple[list[str], bool]:
    """Lines naming every active fault (server and ledger); True when at the baseline."""
    ledger = FaultLedger(state_dir.resolve())
    lines: list[str] = []
    at_baseline = True
    url = toxiproxy_url_of(state_dir, toxiproxy_url)
    try:
        for fault in differences(url, snapshot(url)):
            lines.append(f"fault: {fault.describe()}")
            at_baseline = False
    except UndoFailed as exc:
        lines.append(f"faults: unknown ({exc})")
        at_baseline = False
    for entry in ledger.entries():
        held = "lease held" if owner_holds_lease(ledger, entry.owner) else "NO LEASE"
        what = "flood" if entry.kind.startswith("flood:") else "ledger"
        lines.append(f"{what}: {entry.kind} {entry.target} (pid {entry.owner.pid}, {held})")
        at_baseline = False
    return lines, at_baseline
