"""`--dry-run`: the game day as the room would hear it, without touching the stack.

Every briefing, pause, note and question is printed in full and every
experiment says what would run on which profile, so a facilitator can read
the session through before the day.
"""

from __future__ import annotations

from pathlib import Path

from hubchaos.gameday.facilitation import indented, wrapped
from hubchaos.gameday.plan import Plan, Step
from hubchaos.gameday.recap import counted

__all__ = ["rehearsal_lines"]


def rehearsal_lines(plan: Plan, state_dir: Path, report_dir: str) -> list[str]:
    total = len(plan.steps)
    lines = [
        f"Game day (dry run, nothing runs and the stack is not touched): {plan.title}",
        f"  plan {plan.path}: {counted(total, 'step')}, "
        f"{counted(len(plan.experiments), 'experiment')}, "
        f"{counted(len(plan.questions), 'question')}",
    ]
    if plan.experiments:
        lines.append(
            f"  stack: the one running in {state_dir}, else started there with profile "
            f"{plan.profile} and {plan.replicas} replicas"
        )
    lines.append(f"  report: {report_dir}")
    if plan.description:
        lines.append(wrapped(plan.description))
    profile = None  # the profile the stack would be on, once an experiment named one
    for step in plan.steps:
        lines += ["", f"[{step.number}/{total}] {step.kind.capitalize()}: {step.title}"]
        lines += _step_lines(step, profile)
        profile = step.profile or profile
    lines += ["", f"dry run done: the plan is valid ({counted(total, 'step')})"]
    return lines


def _step_lines(step: Step, profile: str | None) -> list[str]:
    if step.kind == "experiment":
        on = step.profile or profile or "whatever profile the stack runs"
        switch = (
            f"; the stack is switched to profile {step.profile} first if it runs another"
            if step.profile
            else ""
        )
        return [
            f"  would run {step.experiment} ({step.experiment_title}) on profile {on}{switch}",
            f"    file: {step.experiment_path}",
        ]
    if step.kind == "question":
        return [
            *(indented(f"? {question}", "  ") for question in step.questions),
            "    (answers typed here are recorded with timestamps, until an empty line)",
        ]
    lines = [indented(step.text)]
    if step.kind == "recap":
        lines.append("    (then each experiment's verdict, score, alerts and times so far)")
    elif step.kind in ("briefing", "pause"):
        lines.append("    (waits for Enter)")
    return lines
