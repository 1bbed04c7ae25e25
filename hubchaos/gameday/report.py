"""The game day's combined report: `gameday.md` and `gameday.html` for the whole session.

What it says is built in `report_content` as a `hubchaos.report.doc`
document, so the run report's renderers lay it out and both files say the
same thing. Each experiment's connection and alert graphs are drawn again
from its journal under names unique to its step; the Markdown links the SVGs
its own report wrote, the HTML embeds them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hubchaos.gameday.record import GameDayRecord
from hubchaos.gameday.report_content import FIGURES, figure_name, gameday_document, relative
from hubchaos.report.html import render_html
from hubchaos.report.markdown import markdown_from_document
from hubchaos.report.plots import Plot, render_plots

__all__ = ["REPORT_STEM", "write_gameday_report"]

REPORT_STEM = "gameday"


def write_gameday_report(record: GameDayRecord, out_dir: Path) -> list[Path]:
    """Write `gameday.md` and `gameday.html` into `out_dir`; return them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plots, plot_files = _figures(record, out_dir)
    document = gameday_document(record, out_dir, {p.name for p in plots})
    markdown = out_dir / f"{REPORT_STEM}.md"
    markdown.write_text(markdown_from_document(document, plot_files))
    html = out_dir / f"{REPORT_STEM}.html"
    html.write_text(render_html(document, plots))
    return [markdown, html]


def _figures(record: GameDayRecord, out_dir: Path) -> tuple[list[Plot], dict[str, str]]:
    """Each run's graphs under names unique to its step, and the SVGs its own report wrote."""
    plots: list[Plot] = []
    files: dict[str, str] = {}
    for result in record.experiments:
        if result.outcome is None:
            continue
        stem = Path(result.path).stem
        for plot in render_plots(result.outcome.facts):
            if plot.name not in FIGURES:
                continue
            name = figure_name(result, plot.name)
            plots.append(replace(plot, name=name))
            written = [p for p in result.report_files if p.name == f"{stem}-{plot.name}.svg"]
            if written and written[0].is_file():
                files[name] = relative(written[0], out_dir)
    return plots, files
