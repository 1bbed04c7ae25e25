"""The experiments' results in a few terminal lines: what a recap step shows the room."""

from __future__ import annotations

from collections.abc import Sequence

from hubchaos.gameday.record import ExperimentResult

__all__ = ["alerts_in_order", "counted", "recap_lines", "seconds_text"]


def counted(number: int, noun: str) -> str:
    """'1 experiment', '2 experiments'."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def seconds_text(value: float | None, missing: str = "not observed") -> str:
    return missing if value is None else f"{value:.1f} s"


def alerts_in_order(result: ExperimentResult) -> str:
    """'A (+5.9 s), B (+8.0 s)': each alert when it first fired, after the first fault."""
    if not result.alerts_fired:
        return "none fired"
    return ", ".join(
        f"{a.alert} (+{a.seconds_after_fault:.1f} s)"
        if a.seconds_after_fault is not None
        else a.alert
        for a in result.alerts_fired
    )


def recap_lines(results: Sequence[ExperimentResult]) -> list[str]:
    if not results:
        return ["  no experiment has run yet"]
    lines: list[str] = []
    for result in results:
        score = f"score {result.score.value}/100" if result.score else "no score"
        lines += [
            f"  step {result.step + 1}: {result.title} (profile {result.profile})",
            f"    verdict: {result.verdict.summary_line}",
            f"    {score}; time to detect {seconds_text(result.seconds_to_detect)}; "
            f"time to recover {seconds_text(result.seconds_to_recover)}",
            f"    alerts, in the order they fired: {alerts_in_order(result)}",
        ]
    return lines
