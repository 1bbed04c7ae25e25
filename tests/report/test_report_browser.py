"""The HTML report of a real run, opened in headless Chromium: sections, plots, pixels."""

from __future__ import annotations

from pathlib import Path

from tests.report.browser import check_rendering, render
from tests.report.conftest import WrittenReport


def test_the_incident_report_renders_in_chromium(
    reports: dict[str, WrittenReport], tmp_path: Path
) -> None:
    rendering = render(reports["incident-replay.incident"].html_path, tmp_path)
    check_rendering(rendering, "Incident replay: a connection flood against the learning hub")
    assert '<span class="status status-deviated" id="verdict">deviated</span>' in rendering.dom
