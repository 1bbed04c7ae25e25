"""The report as a small document tree, so Markdown and HTML say exactly the same thing.

`hubchaos.report.content` builds it from a journal; `hubchaos.report.markdown`
renders it as Markdown and `hubchaos.report.html` as HTML. Text here is
plain (each renderer escapes it); styles say what a piece of text is, not
how it looks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Block",
    "BulletList",
    "Document",
    "Figure",
    "Line",
    "Paragraph",
    "Section",
    "Span",
    "Table",
    "bad",
    "code",
    "good",
    "line",
    "link",
    "strong",
]

Style = Literal["plain", "strong", "code", "good", "bad"]


@dataclass(frozen=True)
class Span:
    text: str
    style: Style = "plain"
    href: str | None = None  # a link; set only for http(s) or relative targets


Line = tuple[Span, ...]


def line(*parts: str | Span) -> Line:
    """A run of text: plain strings and styled spans."""
    return tuple(Span(part) if isinstance(part, str) else part for part in parts)


def strong(text: str) -> Span:
    return Span(text, "strong")


def code(text: str) -> Span:
    return Span(text, "code")


def good(text: str) -> Span:
    return Span(text, "good")


def bad(text: str) -> Span:
    return Span(text, "bad")


def link(text: str, href: str) -> Span:
    return Span(text, "plain", href)


@dataclass(frozen=True)
class Paragraph:
    line: Line


@dataclass(frozen=True)
class BulletList:
    items: tuple[Line, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Line, ...], ...]
    # one word per row saying what kind of row it is (e.g. "fault", "firing"), for styling
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figure:
    name: str  # the plot's name in hubchaos.report.plots
    title: str
    description: str  # what it shows, in words (alt text and caption)


Block = Paragraph | BulletList | Table | Figure


@dataclass(frozen=True)
class Section:
    title: str
    anchor: str
    blocks: tuple[Block, ...]
    subsections: tuple[Section, ...] = field(default=())


@dataclass(frozen=True)
class Document:
    title: str
    status: str  # the verdict's status word
    sections: tuple[Section, ...]
