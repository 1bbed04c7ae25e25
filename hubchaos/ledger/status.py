"""The faults section of `hubchaos status`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hubchaos.ledger.cli import fault_report

__all__ = ["show_faults"]


def show_faults(state_dir: Path, state: Any, as_json: bool) -> bool:
    """Print active faults (not with --json, whose shape is kept); True at the baseline."""
    if state is None:
        return True  # no stack: nothing to be faulty; status already exits 1
    lines, at_baseline = fault_report(state_dir, state.toxiproxy_url)
    if not as_json:
        for line in lines or ["faults: none (the stack is at its baseline)"]:
            click.echo(line)
        if not at_baseline:
            click.echo(f"undo them with `hubchaos recover --state-dir {state_dir}`")
    return at_baseline
