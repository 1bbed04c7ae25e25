"""The report's first section, "Likely root cause": the ranked findings with their evidence."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubchaos.diagnosis.diagnose import diagnosis_for_journal
from hubchaos.report.doc import (
    Block,
    BulletList,
    Line,
    Paragraph,
    Section,
    Table,
    code,
    line,
    link,
    strong,
)
from hubchaos.report.format import runbook_href

__all__ = ["likely_cause_section", "recorded_diagnosis"]


def recorded_diagnosis(journal: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The journal's `hubchaos_diagnosis`; worked out from its evidence when absent (older runs)."""
    recorded = journal.get("hubchaos_diagnosis")
    if isinstance(recorded, list):
        return [f for f in recorded if isinstance(f, dict)]
    return diagnosis_for_journal(journal)


def likely_cause_section(journal: Mapping[str, Any]) -> Section:
    findings = recorded_diagnosis(journal)
    if not findings:
        text = "Nothing to diagnose: no fault was injected (or the run has no timeline samples)."
        return Section("Likely root cause", "likely-root-cause", (Paragraph(line(text)),))
    top = findings[0]
    known = top.get("known_after_seconds")
    when = f", known {known:.1f} s after the first fault" if isinstance(known, int | float) else ""
    headline = line(
        strong(str(top.get("cause"))),
        f" ({float(top.get('confidence') or 0):.0%}{when}): {top.get('summary', '')}",
    )
    blocks: list[Block] = [Paragraph(headline)]
    evidence = tuple(line(str(item)) for item in top.get("evidence") or [])
    if evidence:
        blocks.append(BulletList(evidence))
    runbook = _runbook_line(str(top.get("runbook_url") or ""))
    if runbook is not None:
        blocks.append(Paragraph(runbook))
    if len(findings) > 1:
        rows = tuple(
            (
                line(code(str(f.get("cause")))),
                line(f"{float(f.get('confidence') or 0):.0%}"),
                line(str(f.get("summary", ""))),
            )
            for f in findings[1:]
        )
        blocks.append(Table(("also considered", "confidence", "why"), rows))
    return Section("Likely root cause", "likely-root-cause", tuple(blocks))


def _runbook_line(url: str) -> Line | None:
    if not url:
        return None
    href = runbook_href(url)
    return line("What to do: ", link(url, href) if href else code(url))
