"""The HTML report is one self-contained file: sections, embedded plots, nothing fetched."""

from __future__ import annotations

import base64
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from hubchaos.report.writer import write_report
from tests.report.conftest import WrittenReport

SECTION_IDS = [
    "summary",
    "impact",
    "timeline",
    "graphs",
    "hypothesis",
    "detection",
    "deviations",
    "score",
    "cleanup",
]
PLOTS = ["pool", "database", "latency", "errors", "alerts"]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_sections_and_plots_are_all_in_the_file(reports: dict[str, WrittenReport]) -> None:
    page = _page(reports["incident-replay.incident"].html)
    ids = [attrs["id"] for attrs in page.all("section")]
    assert [i for i in ids if i in SECTION_IDS] == SECTION_IDS
    figures = [attrs["id"] for attrs in page.all("figure")]
    assert figures == [f"plot-{name}" for name in PLOTS]
    images = page.all("img")
    assert len(images) == len(PLOTS)
    for image in images:
        prefix = "data:image/svg+xml;base64,"
        assert image["src"].startswith(prefix) and image["alt"]
        svg = ElementTree.fromstring(base64.b64decode(image["src"][len(prefix) :]))
        assert svg.tag.endswith("svg")


def test_nothing_is_fetched_from_anywhere(reports: dict[str, WrittenReport]) -> None:
    html = reports["incident-replay.incident"].html
    page = _page(html)
    assert not page.all("script") and not page.all("link") and not page.all("iframe")
    for tag, attrs in page.tags:
        assert "src" not in attrs or attrs["src"].startswith("data:"), (tag, attrs)
    csp = next(m for m in page.all("meta") if m.get("http-equiv") == "Content-Security-Policy")
    assert csp["content"].startswith("default-src 'none'")
    assert "url(" not in html.split("<style>")[1].split("</style>")[0]


def test_the_html_says_what_the_markdown_says(reports: dict[str, WrittenReport]) -> None:
    report = reports["incident-replay.incident"]
    text = " ".join(" ".join(_page(report.html).text).split())
    for needle in (
        "deviated",
        "injection flood-database-logins started (in the background)",
        "alert HubDBPoolRequestsWaiting firing",
        "probe postgres-connections-stayed-inside-the-budget (after the faults): measured 57.0",
        "Resilience score: 50/100",
    ):
        assert needle in text, needle
    links = [a["href"] for a in _page(report.html).all("a")]
    assert "environments/monitoring/RUNBOOK.md#hubdbpoolrequestswaiting" in links


def test_text_from_the_journal_is_escaped(
    journal: Callable[[str], dict[str, Any]], tmp_path: Path
) -> None:
    data = journal("incident-replay.fixed")
    data["experiment"]["title"] = 'Flood <script>alert("x")</script> & more'
    data["hubchaos_timeline"]["runbooks"]["HubDBPoolRequestsWaiting"] = "javascript:alert(1)"
    write_report(data, tmp_path, "escaped")
    html = (tmp_path / "escaped.html").read_text()
    assert "<script>" not in html
    assert "Flood &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in html
    assert 'href="javascript:' not in html
