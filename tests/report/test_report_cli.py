"""`hubchaos report JOURNAL --out DIR` on a real journal, through the real command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.report.conftest import DATA


def test_report_command_writes_markdown_html_and_plots(tmp_path: Path) -> None:
    journal = DATA / "incident-replay.incident.journal.json"
    result = subprocess.run(
        [sys.executable, "-m", "hubchaos", "report", str(journal), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    stem = "incident-replay.incident"
    expected = [f"{stem}.md", f"{stem}.html"]
    expected += [f"{stem}-{n}.svg" for n in ("pool", "database", "latency", "errors", "alerts")]
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == sorted(expected)
    assert result.stdout.splitlines() == [f"report: {tmp_path / 'r' / name}" for name in expected]
    assert "## What deviated" in (tmp_path / "r" / f"{stem}.md").read_text()
