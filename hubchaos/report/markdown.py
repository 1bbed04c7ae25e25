"""The report document as Markdown: plain to read and to grep, plots linked as SVG files."""

from __future__ import annotations

import re
from collections.abc import Mapping

from hubchaos.report.doc import (
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

__all__ = ["markdown_from_document"]

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
