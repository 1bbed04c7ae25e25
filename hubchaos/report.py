"""The run report in the postmortem shape the team already reads.

Summary and impact in numbers, timeline, graphs, hypothesis results against
their tolerances, time to detect and to recover, what deviated with the
runbook links of the alerts that fired, the resilience score and whether the
stack was restored. `write_report` writes it as Markdown (plots as SVG files
next to it) and as one self-contained HTML file. Secrets are redacted from
the journal before anything is computed from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hubchaos.journal_facts import facts_from_journal
from hubchaos.plots import Plot, render_plots
from hubchaos.redact import redact
from hubchaos.report_content import build_document
from hubchaos.report_doc import (
    Block,
    BulletList,
    Document,
    Figure,
    Line,
    Paragraph,
    Section,
    Span,
    Table,
)
from hubchaos.report_html import render_html
from hubchaos.score import score_run
from hubchaos.verdict import verdict_from_journal

__all__ = ["markdown_from_document", "prepare_report", "render_markdown", "write_report"]


def write_report(journal: dict[str, Any], out_dir: Path, stem: str = "report") -> list[Path]:
    """Write `<stem>.md`, `<stem>.html` and the plots `<stem>-<plot>.svg` into `out_dir`;
    return the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    document, plots = prepare_report(journal)
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


def prepare_report(journal: dict[str, Any]) -> tuple[Document, list[Plot]]:
    """The report's document and plots, computed from the redacted journal."""
    journal = redact(journal)
    facts = facts_from_journal(journal)
    plots = render_plots(facts)
    verdict = verdict_from_journal(journal)
    return build_document(journal, verdict, facts, score_run(journal), plots), plots


def render_markdown(journal: dict[str, Any], plot_files: Mapping[str, str] | None = None) -> str:
    """The report as Markdown; plots are linked when `plot_files` maps their names to files."""
    document, _ = prepare_report(journal)
    return markdown_from_document(document, plot_files or {})


# --------------------------------------------------------------------------- Markdown

# any run of whitespace, no-break spaces included: Markdown files stay plain to grep
_WHITESPACE = re.compile(r"\s+")
_ESCAPED = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|"})


def markdown_from_document(document: Document, plot_files: Mapping[str, str]) -> str:
    parts = [f"# {_text(document.title)}: {document.status}", ""]
    for section in document.sections:
        parts += _section(section, 2, plot_files)
    return "\n".join(parts).rstrip() + "\n"


def _section(section: Section, level: int, plot_files: Mapping[str, str]) -> list[str]:
    parts = ["#" * level + " " + _text(section.title), ""]
    for block in section.blocks:
        parts += [*_block(block, plot_files), ""]
    for subsection in section.subsections:
        parts += _section(subsection, level + 1, plot_files)
    return parts


def _block(block: Block, plot_files: Mapping[str, str]) -> list[str]:
    if isinstance(block, Paragraph):
        return [_line(block.line)]
    if isinstance(block, BulletList):
        return [f"- {_line(item)}" for item in block.items]
    if isinstance(block, Table):
        rows = [
            "| " + " | ".join(_text(h) for h in block.header) + " |",
            "|" + "---|" * len(block.header),
        ]
        rows += ["| " + " | ".join(_line(cell, True) for cell in row) + " |" for row in block.rows]
        return rows
    if isinstance(block, Figure):
        return _figure(block, plot_files)
    raise TypeError(f"unknown block {type(block).__name__}")


def _figure(figure: Figure, plot_files: Mapping[str, str]) -> list[str]:
    file = plot_files.get(figure.name)
    if file is None:
        return [f"- **{_text(figure.title)}**: {_text(figure.description)} (a graph in the HTML)"]
    return [f"![{_text(figure.title)}]({_href(file)})", "", f"*{_text(figure.description)}*"]


def _text(text: str) -> str:
    return _WHITESPACE.sub(" ", text).translate(_ESCAPED)


def _href(href: str) -> str:
    return href.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _line(spans: Line, in_table: bool = False) -> str:
    return "".join(_span(span, in_table) for span in spans)


def _span(span: Span, in_table: bool) -> str:
    if span.href is not None:
        return f"[{_text(span.text)}]({_href(span.href)})"
    if span.style == "code":
        text = _WHITESPACE.sub(" ", span.text).replace("`", "'")
        return f"`{text.replace('|', chr(92) + '|') if in_table else text}`" if text else ""
    if span.style in ("strong", "bad") and span.text.strip():
        # emphasis markers must touch the text: `**x **` is not bold
        text = span.text
        head, tail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
        return f"{_text(head)}**{_text(text.strip())}**{_text(tail)}"
    return _text(span.text)
