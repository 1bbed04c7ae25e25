"""Where people read the diagnosis: first in the report, live in the run's output."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hubchaos.controls.timeline import Sampler
from hubchaos.diagnosis.live import LiveDiagnosis
from hubchaos.diagnosis.report import likely_cause_section
from hubchaos.report.writer import write_report
from tests.conftest import refused_port

DATA = Path(__file__).parent / "data"
REPORT_DATA = Path(__file__).parents[1] / "report" / "data"


def recorded(name: str) -> dict[str, Any]:
    journal: dict[str, Any] = json.loads((DATA / f"{name}.journal.json").read_text())
    return journal


def test_the_report_opens_with_the_likely_root_cause(tmp_path: Path) -> None:
    journal = json.loads((REPORT_DATA / "incident-replay.fixed.journal.json").read_text())
    journal["hubchaos_diagnosis"] = [
        {
            "cause": "db-connection-budget-exhausted",
            "confidence": 0.88,
            "summary": "PostgreSQL refused logins; most are held by hubchaos-flood/learninghub",
            "evidence": ["at the peak 57 connections, held by: hubchaos-flood/learninghub 30"],
            "runbook_url": "environments/monitoring/RUNBOOK.md#hubdbconnectionbudgetexhausted",
            "known_after_seconds": 0.8,
        }
    ]
    written = write_report(journal, tmp_path, stem="replay")
    markdown = next(p for p in written if p.suffix == ".md").read_text()
    sections = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert sections[0] == "## Likely root cause"
    assert "**db-connection-budget-exhausted** (88%, known 0.8 s after the first fault)" in markdown
    assert "- at the peak 57 connections, held by: hubchaos-flood/learninghub 30" in markdown
    html = next(p for p in written if p.suffix == ".html").read_text()
    assert html.index("Likely root cause") < html.index("Summary")


def test_a_journal_without_a_recorded_diagnosis_is_diagnosed_from_its_evidence() -> None:
    section = likely_cause_section(recorded("traffic-spike.incident"))
    text = repr(section)
    assert "app-pool-misconfigured" in text and "also considered" in text


def test_the_plain_output_announces_each_new_top_finding_once() -> None:
    sampler = Sampler(f"http://127.0.0.1:{refused_port()}")  # never started: we feed it
    said: list[str] = []
    live = LiveDiagnosis("unused", sampler=sampler, announce=said.append)
    journal = recorded("incident-replay.incident")

    live.start_method({})
    first_action = journal["run"][0]
    started = datetime.fromisoformat(first_action["start"]).replace(tzinfo=UTC)
    # the run event arrives as the action starts; the samples come in one by one
    live._injections.append(_injection(first_action, started))
    for sample in journal["hubchaos_timeline"]["samples"]:
        sampler.samples.append(sample)
        live.say_if_changed()
    live.finish({})

    assert said, "nothing announced"
    assert all(line.startswith("diagnosis: likely ") for line in said)
    assert said[-1].startswith("diagnosis: likely app-pool-misconfigured (90%)")
    assert len(said) == len(set(said)), "a finding announced twice in a row"
    assert not any(" none " in line for line in said[:-1]), "'none' is only a last word"


def test_before_any_fault_there_is_nothing_to_announce() -> None:
    sampler = Sampler(f"http://127.0.0.1:{refused_port()}")
    said: list[str] = []
    live = LiveDiagnosis("unused", sampler=sampler, announce=said.append)
    now = datetime.now(UTC)
    sampler.samples.extend({"time": (now + timedelta(seconds=i)).isoformat()} for i in range(5))
    live.say_if_changed()
    assert live.findings() == [] and said == []


def _injection(run: dict[str, Any], started: datetime) -> Any:
    from hubchaos.diagnosis.evidence import injection_of

    return injection_of(run["activity"], started, run.get("output"))


def test_window_probes_before_the_faults_read_not_measured_yet(tmp_path: Path) -> None:
    journal = json.loads((REPORT_DATA / "incident-replay.fixed.journal.json").read_text())
    before = journal["steady_states"]["before"]["probes"]
    window = [
        p for p in before if p["activity"]["provider"].get("module") == "hubchaos.probes.window"
    ]
    assert window, "the recorded run has window probes before the method"
    for probe in window:
        probe["output"] = {"peak": 0.0, "measured": False, "note": "not measured yet (no fault)"}
    markdown = next(
        p for p in write_report(journal, tmp_path, stem="replay") if p.suffix == ".md"
    ).read_text()
    before_part = markdown.split("### Before the faults", 1)[1].split("###", 1)[0]
    assert before_part.count("not measured yet (no fault)") == len(window)
    assert "peak = 0.0" not in before_part


def _panel_text(findings: list[Any]) -> str:
    import io

    from rich.console import Console

    from hubchaos.view.live import render_panel
    from hubchaos.view.readings import Readings
    from hubchaos.view.run_watch import RunWatch

    console = Console(file=io.StringIO(), width=120, record=True, color_system=None)
    console.print(
        render_panel(RunWatch("t").snapshot(), Readings(), None, "http://x", "", findings=findings)
    )
    return console.export_text()


def test_the_live_panel_shows_the_likely_cause_as_soon_as_known() -> None:
    from hubchaos.diagnosis import Finding

    assert "likely cause not known yet (no fault)" in _panel_text([])
    finding = Finding(
        "app-pool-misconfigured",
        0.9,
        "the app pools may open 200 connections, PostgreSQL takes 57: cap the pools",
        ["replicas x pool max = app-1 100 + app-2 100 = 200 connections", "refused 53300"],
    )
    text = _panel_text([finding, Finding("db-connection-budget-exhausted", 0.85, "x")])
    assert "likely cause app-pool-misconfigured  90%  the app pools may open 200" in text
    assert "· replicas x pool max = app-1 100 + app-2 100 = 200 connections" in text
    assert "also: db-connection-budget-exhausted 85%" in text
