"""`hubchaos report JOURNAL --out DIR`: render the journal of a `hubchaos run` or `chaos run`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from hubchaos.errors import UserError
from hubchaos.report.writer import write_report

__all__ = ["report_command"]


@click.command("report")
@click.argument("journal", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory for the report files.",
)
def report_command(journal: str, out_dir: str) -> None:
    """Render JOURNAL as a postmortem-shaped report in DIR."""
    path = Path(journal)
    if not path.is_file():
        raise UserError(f"{journal}: no such journal file")
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{journal}: not a JSON journal ({exc})") from exc
    if not isinstance(data, dict) or "experiment" not in data:
        raise UserError(f"{journal}: not a Chaos Toolkit journal (no 'experiment' key)")
    stem = path.name.removesuffix(".json").removesuffix(".journal")
    for written in write_report(data, Path(out_dir), stem=stem):
        click.echo(f"report: {written}")
