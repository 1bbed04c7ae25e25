"""Ranking the findings, and when the top one became known.

`diagnose` is a pure function of the evidence. `diagnosis_for_journal`
replays the run second by second (the evidence as it stood at each sample)
to say how long after the first fault the final top finding was first on
top for good: what a facilitator watching the live panel saw, and when.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from hubchaos.diagnosis import rules_app, rules_database
from hubchaos.diagnosis.causes import CAUSES, Finding
from hubchaos.diagnosis.evidence import Evidence, from_journal

__all__ = ["RULES", "diagnose", "diagnosis_for_journal", "known_after"]

Rule = Callable[[Evidence], Finding | None]

RULES: tuple[Rule, ...] = (
    rules_database.app_pool_misconfigured,
    rules_database.db_connection_budget_exhausted,
    rules_database.db_unreachable,
    rules_database.db_connections_reset,
    rules_database.db_latency,
    rules_app.app_pool_exhausted,
    rules_app.replica_down,
    rules_app.query_spike,
)
# Below this, a finding is a hint, not a cause: alone, the diagnosis says `none`.
CAUSE_THRESHOLD = 0.4


def diagnose(evidence: Evidence) -> list[Finding]:
    """Findings, most likely first; `none` (with what was looked at) when nothing stands out."""
    if evidence.fault_start is None or not evidence.during:
        return []  # no fault yet: nothing to diagnose
    findings = [f for rule in RULES if (f := rule(evidence)) is not None]
    findings.sort(key=lambda f: (-f.confidence, list(CAUSES).index(f.cause)))
    if not findings or findings[0].confidence < CAUSE_THRESHOLD:
        findings.insert(0, _nothing_found(evidence))
    return findings


def _nothing_found(evidence: Evidence) -> Finding:
    errors = evidence.peak("error_rate")
    p95 = evidence.peak("p95_latency_seconds")
    looked = [
        f"{len(evidence.during)} samples since the first fault: no refused or unanswered "
        "login, no replica down, no database fault"
    ]
    if errors is not None:
        looked.append(f"5xx share peaked at {errors:.1%}")
    if p95 is not None:
        looked.append(f"request p95 peaked at {p95:.2f} s")
    return Finding("none", 0.5, "no root cause stands out: the stack absorbed the faults", looked)


def known_after(evidence: Evidence, cause: str) -> float | None:
    """Seconds after the first fault from which `cause` stayed the top finding to the end."""
    since: float | None = None
    for sample in evidence.during:
        taken = evidence.sample_time(sample)
        if taken is None:
            continue
        top = diagnose(evidence.until(taken))
        if top and top[0].cause == cause:
            if since is None:
                since = evidence.seconds_after_fault(sample)
        else:
            since = None
    return since


def diagnosis_for_journal(journal: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The journal's `hubchaos_diagnosis`: findings as dicts, most likely first."""
    evidence = from_journal(journal)
    findings = diagnose(evidence)
    if findings:
        findings[0] = replace(
            findings[0], known_after_seconds=known_after(evidence, findings[0].cause)
        )
    return [f.as_dict() for f in findings]
