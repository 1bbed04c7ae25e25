"""The report as one self-contained HTML file: inline CSS, plots as data: URLs, no script.

Everything the page shows is inside the file, and its Content-Security-Policy
forbids the browser to fetch anything else, so the report reads the same from
a CI artifact, an e-mail attachment or a laptop without network. Each plot is
an SVG embedded as a data: URL in an <img>, which keeps the SVGs' internal ids
from clashing with each other.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape

from hubchaos import __version__
from hubchaos.report.doc import Block, BulletList, Document, Figure, Line, Paragraph, Section, Table
from hubchaos.report.plots import Plot

__all__ = ["render_html"]

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --good: #1a7f37; --bad: #c0392b; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #f6f7f9; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
header h1 { font-size: 26px; margin: 0 0 8px; }
.status { display: inline-block; padding: 2px 12px; border-radius: 12px; color: #fff;
          font-weight: 600; text-transform: uppercase; font-size: 13px; letter-spacing: .04em; }
.status-passed { background: var(--good); }
.status-deviated, .status-error, .status-not-steady, .status-interrupted, .status-invalid {
  background: var(--bad); }
nav { margin: 12px 0 8px; font-size: 14px; }
nav a { margin-right: 14px; color: #1f5fbf; text-decoration: none; }
h2 { font-size: 20px; margin: 32px 0 10px; padding-bottom: 4px;
     border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 8px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-size: 13.5px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px;
         border-bottom: 1px solid var(--line); }
th { background: #eef0f3; font-weight: 600; }
td code { word-break: break-word; }
code { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
       background: #f1f3f5; padding: 1px 4px; border-radius: 3px; }
.good { color: var(--good); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
tr.kind-fault td, tr.kind-fault-end td { background: #fdecea; }
tr.kind-firing td { background: #fff1e0; }
tr.kind-pending td { background: #fffaf0; }
tr.kind-resolved td, tr.kind-recovered td, tr.kind-cleanup td { background: #eaf6ec; }
tr.kind-rollback td { background: #eaf1fb; }
tr.kind-deviated td, tr.kind-error td { background: #fdecea; }
tr.kind-skipped td { color: var(--muted); }
figure.plot { margin: 12px 0 20px; }
figure.plot img { display: block; width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
footer { margin-top: 36px; font-size: 12px; color: var(--muted); }
@media print { body { background: #fff; } main { padding: 0; } nav { display: none; } }
"""


def render_html(document: Document, plots: Sequence[Plot]) -> str:
    svgs = {plot.name: plot.svg for plot in plots}
    nav = " ".join(
        f'<a href="#{escape(s.anchor)}">{escape(s.title)}</a>' for s in document.sections
    )
    body = "\n".join(_section(section, 2, svgs) for section in document.sections)
    status = escape(document.status)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(document.title)}: {status}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<header>
<h1>{escape(document.title)}</h1>
<span class="status status-{status}" id="verdict">{status}</span>
<nav>{nav}</nav>
</header>
{body}
<footer>Written by hubchaos {escape(__version__)} from the run's journal.</footer>
</main>
</body>
</html>
"""


def _section(section: Section, level: int, svgs: dict[str, bytes]) -> str:
    parts = [
        f'<section id="{escape(section.anchor)}">',
        f"<h{level}>{escape(section.title)}</h{level}>",
    ]
    parts += [_block(block, svgs) for block in section.blocks]
    parts += [_section(sub, level + 1, svgs) for sub in section.subsections]
    parts.append("</section>")
    return "\n".join(parts)


def _block(block: Block, svgs: dict[str, bytes]) -> str:
    if isinstance(block, Paragraph):
        return f"<p>{_line(block.line)}</p>"
    if isinstance(block, BulletList):
        return "<ul>" + "".join(f"<li>{_line(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return _figure(block, svgs)
    raise TypeError(f"unknown block {type(block).__name__}")


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    rows = []
    for index, row in enumerate(table.rows):
        kind = table.kinds[index] if index < len(table.kinds) else ""
        attr = f' class="kind-{escape(kind)}"' if kind else ""
        rows.append(f"<tr{attr}>" + "".join(f"<td>{_line(cell)}</td>" for cell in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _figure(figure: Figure, svgs: dict[str, bytes]) -> str:
    svg = svgs.get(figure.name)
    if svg is None:
        return f"<p>{escape(figure.title)}: no data.</p>"
    data = base64.b64encode(svg).decode("ascii")
    return (
        f'<figure class="plot" id="plot-{escape(figure.name)}">'
        f'<img src="data:image/svg+xml;base64,{data}" alt="{escape(figure.description)}">'
        f"<figcaption><strong>{escape(figure.title)}.</strong> {escape(figure.description)}"
        "</figcaption></figure>"
    )


def _line(spans: Line) -> str:
    parts = []
    for span in spans:
        text = escape(span.text)
        if span.href is not None:
            parts.append(f'<a href="{escape(span.href, quote=True)}">{text}</a>')
        elif span.style == "strong":
            parts.append(f"<strong>{text}</strong>")
        elif span.style == "code":
            parts.append(f"<code>{text}</code>")
        elif span.style in ("good", "bad"):
            parts.append(f'<span class="{span.style}">{text}</span>')
        else:
            parts.append(text)
    return "".join(parts)
