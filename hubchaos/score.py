"""The resilience score of a run: 0-100, computed only from its journal.

Five parts, each with its points and the reason for them:

- hypothesis (35): the steady state held before and after the faults (the
  verdict passed); 0 for a deviation, an error or an interrupted run.
- detection (15): first fault to first alert firing. Full points within the
  30 s target, then linearly down to 0 at twice the target; 0 if no alert fired.
- recovery (15): last fault over to no request waiting for a connection and
  under 1 % 5xx responses; same scale against a 30 s target; 0 if not seen.
- service (25): the share of the generated HTTP requests users were served
  (status below 500), times 25. A fast 503 beats a hang (the hypothesis judges
  that), but it is still a user who lost service: a run that answered 98.5 %
  of its requests with 5xx keeps 0.4 of these points and cannot score 100.
  Left out when the run generated no HTTP load.
- clean-up (10): the safety control restored the stack (no toxic, flood or
  connection left); 0 when it did not, or did not run.

The score is 100 x points earned / points possible, rounded. `combine` adds
several scores up the same way (a game day: every run's points count).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from hubchaos.journal.facts import Facts, facts_from_journal
from hubchaos.verdict import Verdict, verdict_from_journal

__all__ = [
    "DEFINITION",
    "DETECT_TARGET_S",
    "RECOVER_TARGET_S",
    "Score",
    "ScorePart",
    "combine",
    "score_run",
]

DETECT_TARGET_S = 30.0
RECOVER_TARGET_S = 30.0

# (name, max points, what earns them): the definition printed in every report
DEFINITION: tuple[tuple[str, int, str], ...] = (
    ("hypothesis", 35, "the steady state held before and after the faults (verdict passed)"),
    (
        "detection",
        15,
        f"first fault to first alert firing: full points within {DETECT_TARGET_S:g} s, "
        f"then linearly to 0 at {2 * DETECT_TARGET_S:g} s; 0 if no alert fired",
    ),
    (
        "recovery",
        15,
        f"last fault over to no request waiting and under 1 % 5xx: full points within "
        f"{RECOVER_TARGET_S:g} s, then linearly to 0 at {2 * RECOVER_TARGET_S:g} s; "
        "0 if not recovered while the run watched",
    ),
    (
        "service",
        25,
        "share of generated HTTP requests users were served (status below 500), times 25: "
        "a fast 503 is still a user who lost service; left out when the run sent no HTTP load",
    ),
    ("clean-up", 10, "the safety control restored the stack: no toxic, flood or connection left"),
)
MAX_POINTS = {name: points for name, points, _ in DEFINITION}


class ScorePart(NamedTuple):
    name: str
    points: float
    max: int
    why: str


@dataclass(frozen=True)
class Score:
    value: int  # 0-100
    parts: list[ScorePart]

    @property
    def points(self) -> float:
        return sum(part.points for part in self.parts)

    @property
    def max_points(self) -> int:
        return sum(part.max for part in self.parts)


def score_run(
    journal: dict[str, Any], facts: Facts | None = None, verdict: Verdict | None = None
) -> Score:
    """The resilience score of one run (see the module docstring for the definition).

    `facts` and `verdict`, when the caller has them, must be the journal's own."""
    facts = facts_from_journal(journal) if facts is None else facts
    verdict = verdict_from_journal(journal) if verdict is None else verdict
    parts = [
        _hypothesis(verdict),
        _against_target(
            "detection", facts.seconds_to_detect(), DETECT_TARGET_S, _no_detection(facts)
        ),
        _against_target(
            "recovery", facts.seconds_to_recover(), RECOVER_TARGET_S, _no_recovery(facts)
        ),
        _service(journal),
        _clean_up(journal),
    ]
    return _scored([part for part in parts if part is not None])


def combine(scores: Iterable[Score]) -> Score:
    """One score for several runs (a game day): each part's points and maxima summed
    over the runs, and 100 x all points earned / all points possible. No runs: 0."""
    totals: dict[str, list[float]] = {}
    reasons: dict[str, list[str]] = {}
    runs = 0
    for score in scores:
        runs += 1
        for part in score.parts:
            earned = totals.setdefault(part.name, [0.0, 0])
            earned[0] += part.points
            earned[1] += part.max
            reasons.setdefault(part.name, []).append(f"{part.points:g}/{part.max}")
    parts = [
        ScorePart(
            name,
            round(points, 1),
            int(most),
            f"{len(reasons[name])} of {runs} runs: " + ", ".join(reasons[name]),
        )
        for name, (points, most) in totals.items()
    ]
    return _scored(parts)


def _scored(parts: Sequence[ScorePart]) -> Score:
    possible = sum(part.max for part in parts)
    earned = sum(part.points for part in parts)
    value = round(100 * earned / possible) if possible else 0
    return Score(max(0, min(100, value)), list(parts))


def _hypothesis(verdict: Verdict) -> ScorePart:
    most = MAX_POINTS["hypothesis"]
    if verdict.passed:
        return ScorePart("hypothesis", most, most, "the steady state held before and after")
    return ScorePart("hypothesis", 0, most, verdict.summary_line)


def _against_target(name: str, seconds: float | None, target: float, missing: str) -> ScorePart:
    most = MAX_POINTS[name]
    if seconds is None:
        return ScorePart(name, 0, most, missing)
    seconds = max(0.0, seconds)
    share = 1.0 if seconds <= target else max(0.0, (2 * target - seconds) / target)
    points = round(most * share, 1)
    verdict = "within" if seconds <= target else "over"
    return ScorePart(name, points, most, f"{seconds:.1f} s, {verdict} the {target:g} s target")


def _no_detection(facts: Facts) -> str:
    if facts.fault_start is None:
        return "no fault was injected"
    return "no alert fired after the first fault"


def _no_recovery(facts: Facts) -> str:
    if facts.fault_end is None:
        return "no fault was injected"
    if not facts.samples:
        return "no timeline samples: recovery was not observed"
    return "the stack had not recovered when the timeline stopped"


def _service(journal: dict[str, Any]) -> ScorePart | None:
    served = finished = 0
    for run in journal.get("run") or []:
        output = run.get("output") if isinstance(run, dict) else None
        if not isinstance(output, dict) or output.get("kind") != "http":
            continue
        statuses = {int(k): int(v) for k, v in (output.get("status_counts") or {}).items()}
        served += sum(n for status, n in statuses.items() if status < 500)
        # still waiting when the load stopped: those users got nothing either
        finished += int(output.get("requests") or 0) + int(output.get("cancelled") or 0)
    if not finished:
        return None
    most = MAX_POINTS["service"]
    share = served / finished
    return ScorePart(
        "service",
        round(most * share, 1),
        most,
        f"{served} of {finished} requests served ({share:.1%}); "
        f"{finished - served} lost service (5xx, no answer, or still waiting at the end)",
    )


def _clean_up(journal: dict[str, Any]) -> ScorePart:
    most = MAX_POINTS["clean-up"]
    safety = journal.get("hubchaos_safety")
    if not isinstance(safety, dict):
        return ScorePart("clean-up", 0, most, "no safety control: nothing shows the stack restored")
    if safety.get("clean") is True:
        return ScorePart("clean-up", most, most, "stack restored, nothing left behind")
    problems = "; ".join(str(e) for e in safety.get("errors") or []) or "stack not restored"
    leftover = safety.get("leftover_connections")
    if isinstance(leftover, int) and leftover > 0:
        problems += f"; {leftover} connections left"
    return ScorePart("clean-up", 0, most, problems)
