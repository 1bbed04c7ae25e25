"""The live panel's "likely cause" row: the top finding and its strongest evidence."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from hubchaos.diagnosis.causes import Finding

__all__ = ["diagnosis_text"]


def diagnosis_text(findings: Sequence[Finding]) -> Text:
    if not findings:
        return Text("not known yet (no fault)", style="dim")
    top = findings[0]
    style = "green" if top.cause == "none" else "bold red"
    text = Text.assemble((top.cause, style), f"  {top.confidence:.0%}  ", (top.summary, "bold"))
    for line in top.evidence[:2]:
        text.append(f"\n· {line}", style="dim")
    if len(findings) > 1:
        others = ", ".join(f"{f.cause} {f.confidence:.0%}" for f in findings[1:3])
        text.append(f"\nalso: {others}", style="dim")
    return text
