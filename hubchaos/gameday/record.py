"""What a game day leaves behind: the steps as they happened, every observation, every run.

The record is saved as `gameday.json` after every step, so what participants
typed survives even a game day that is killed; the combined report is
rendered from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hubchaos.gameday.plan import Plan, Step
from hubchaos.private.redact import redact_text
from hubchaos.report.outcome import RunOutcome
from hubchaos.score import Score
from hubchaos.verdict import ExitCode, Verdict

__all__ = [
    "ExperimentResult",
    "GameDayRecord",
    "Observation",
    "StepRecord",
    "experiment_result",
    "now",
]


def now() -> datetime:
    return datetime.now(UTC)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


@dataclass(frozen=True)
class Observation:
    time: datetime
    step: int
    question: str
    text: str
    source: str  # terminal | file (typed) | unattended | no-input | none (markers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "step": self.step,
            "question": self.question,
            "text": redact_text(self.text),
            "source": self.source,
        }


@dataclass(frozen=True)
class AlertFired:
    alert: str
    seconds_after_fault: float | None


@dataclass(frozen=True)
class ExperimentResult:
    """One experiment run of the game day and what the report needs from it."""

    step: int
    path: str  # as written in the plan
    title: str  # the step's title (the plan's words for this run)
    experiment_title: str
    profile: str
    verdict: Verdict
    seconds: float
    journal_path: Path | None = None
    outcome: RunOutcome | None = None  # the runner's judgement: redacted journal, facts, score
    score: Score | None = None
    seconds_to_detect: float | None = None
    seconds_to_recover: float | None = None
    fault_started: datetime | None = None
    detected_at: datetime | None = None  # the first alert firing after the first fault
    recovered_at: datetime | None = None
    alerts_fired: tuple[AlertFired, ...] = ()  # in the order they first fired
    report_files: tuple[Path, ...] = ()

    @property
    def journal(self) -> dict[str, Any] | None:
        """The run's journal, redacted."""
        return self.outcome.journal if self.outcome else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "experiment": self.path,
            "title": self.title,
            "experiment_title": self.experiment_title,
            "profile": self.profile,
            "verdict": self.verdict.to_dict(),
            "seconds": round(self.seconds, 1),
            "journal": str(self.journal_path) if self.journal_path else None,
            "score": self.score.value if self.score else None,
            "score_parts": [p._asdict() for p in self.score.parts] if self.score else [],
            "seconds_to_detect": self.seconds_to_detect,
            "seconds_to_recover": self.seconds_to_recover,
            "fault_started": _iso(self.fault_started),
            "detected_at": _iso(self.detected_at),
            "recovered_at": _iso(self.recovered_at),
            "alerts_fired": [
                {"alert": a.alert, "seconds_after_fault": a.seconds_after_fault}
                for a in self.alerts_fired
            ],
            "report_files": [str(p) for p in self.report_files],
        }


def experiment_result(
    step: Step, profile: str, outcome: RunOutcome, seconds: float, journal_path: Path | None
) -> ExperimentResult:
    """The result of a run, with the score and the detection/recovery facts of its outcome."""
    facts = outcome.facts
    fired: list[AlertFired] = []
    for change in facts.alert_changes:
        after_fault = facts.fault_start is None or change.time >= facts.fault_start
        if (
            change.state == "firing"
            and after_fault
            and change.alert not in {a.alert for a in fired}
        ):
            offset = (
                (change.time - facts.fault_start).total_seconds() if facts.fault_start else None
            )
            fired.append(AlertFired(change.alert, offset))
    return ExperimentResult(
        step.index,
        step.experiment,
        step.title,
        step.experiment_title,
        profile,
        outcome.verdict,
        seconds,
        journal_path=journal_path,
        outcome=outcome,
        score=outcome.score,
        seconds_to_detect=facts.seconds_to_detect(),
        seconds_to_recover=facts.seconds_to_recover(),
        fault_started=facts.fault_start,
        detected_at=facts.first_firing() if facts.fault_start else None,
        recovered_at=facts.recovered_at(),
        alerts_fired=tuple(fired),
    )


@dataclass
class StepRecord:
    step: Step
    started: datetime
    ended: datetime | None = None
    outcome: str = ""  # one line: what happened at this step

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step.index,
            "kind": self.step.kind,
            "title": self.step.title,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat() if self.ended else None,
            "outcome": self.outcome,
        }


@dataclass
class GameDayRecord:
    plan: Plan
    mode: str  # interactive | unattended | answers from FILE
    started: datetime = field(default_factory=now)
    ended: datetime | None = None
    steps: list[StepRecord] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    experiments: list[ExperimentResult] = field(default_factory=list)
    interrupted: str | None = None  # why the game day stopped early (Ctrl-C, SIGTERM)
    failure: str | None = None  # an error that stopped it (the stack would not start)
    failure_code: int = int(ExitCode.ERROR)  # its exit code (2 when the user must fix something)
    stack_notes: list[str] = field(default_factory=list)  # started, profile switches

    @property
    def exit_code(self) -> int:
        """Interrupted: 5; else the worst verdict, or the failure that stopped the game day."""
        if self.interrupted is not None:
            return int(ExitCode.INTERRUPTED)
        codes = [result.verdict.code for result in self.experiments]
        if self.failure is not None:
            codes.append(self.failure_code)
        return max(codes, default=int(ExitCode.PASSED))

    @property
    def status_word(self) -> str:
        if self.interrupted is not None:
            return "interrupted"
        if self.failure is not None:
            return "error"
        worst = max(self.experiments, key=lambda r: r.verdict.code, default=None)
        return worst.verdict.status_word if worst else "passed"

    def offset(self, when: datetime) -> float:
        return (when - self.started).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": str(self.plan.path),
            "title": self.plan.title,
            "mode": self.mode,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat() if self.ended else None,
            "status": self.status_word,
            "exit_code": self.exit_code,
            "interrupted": self.interrupted,
            "failure": self.failure,
            "stack": self.stack_notes,
            "steps": [s.to_dict() for s in self.steps],
            "observations": [o.to_dict() for o in self.observations],
            "experiments": [e.to_dict() for e in self.experiments],
        }

    def save(self, path: Path) -> None:
        """Written atomically: a crash mid-write never loses the previous copy."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(self.to_dict(), indent=2, default=str))
        partial.replace(path)
