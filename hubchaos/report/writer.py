"""The run report in the postmortem shape the team already reads.

Summary and impact in numbers, timeline, graphs, hypothesis results against
their tolerances, time to detect and to recover, what deviated with the
runbook links of the alerts that fired, the resilience score and whether the
stack was restored. `write_report` writes it as Markdown (plots as SVG files
next to it) and as one self-contained HTML file. Secrets are redacted from
the journal before anything is computed from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hubchaos.report.content import build_document
from hubchaos.report.doc import Document
from hubchaos.report.html import render_html
from hubchaos.report.markdown import markdown_from_document
from hubchaos.report.outcome import RunOutcome
from hubchaos.report.plots import Plot, render_plots

__all__ = ["markdown_from_document", "prepare_report", "render_markdown", "write_report"]


def write_report(
    run: Mapping[str, Any] | RunOutcome, out_dir: Path, stem: str = "report"
) -> list[Path]:
    """Write `<stem>.md`, `<stem>.html` and the plots `<stem>-<plot>.svg` into `out_dir`;
    return the files written. `run` is a journal, or the outcome the runner judged."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    document, plots = prepare_report(run)
    plot_files: dict[str, str] = {}
    written: list[Path] = []
    for plot in plots:
        path = out_dir / f"{stem}-{plot.name}.svg"
        path.write_bytes(plot.svg)
        plot_files[plot.name] = path.name
    markdown = out_dir / f"{stem}.md"
    markdown.write_text(markdown_from_document(document, plot_files))
    html = out_dir / f"{stem}.html"
    html.write_text(render_html(document, plots))
    written += [markdown, html]
    written += [out_dir / name for name in plot_files.values()]
    return written


def prepare_report(run: Mapping[str, Any] | RunOutcome) -> tuple[Document, list[Plot]]:
    """The report's document and plots, from the outcome of the redacted journal."""
    outcome = run if isinstance(run, RunOutcome) else RunOutcome.of(run)
    plots = render_plots(outcome.facts)
    document = build_document(outcome.journal, outcome.verdict, outcome.facts, outcome.score, plots)
    return document, plots


def render_markdown(
    run: Mapping[str, Any] | RunOutcome, plot_files: Mapping[str, str] | None = None
) -> str:
    """The report as Markdown; plots are linked when `plot_files` maps their names to files."""
    document, _ = prepare_report(run)
    return markdown_from_document(document, plot_files or {})
