"""Facts a report needs, read from a journal: faults, alerts, detection and recovery times.

Everything here is derived from what the run recorded (chaoslib's journal
plus the timeline and safety controls' additions), never from assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["AlertChange", "Facts", "facts_from_journal", "parse_time"]


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # chaoslib writes naive UTC for activities
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


@dataclass
class AlertChange:
    time: datetime
    alert: str
    state: str  # pending | firing | resolved


@dataclass
class Facts:
    started: datetime | None
    ended: datetime | None
    fault_start: datetime | None
    fault_end: datetime | None
    actions: list[dict[str, Any]] = field(default_factory=list)
    alert_changes: list[AlertChange] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    runbooks: dict[str, str] = field(default_factory=dict)

    def first_firing(self, alert: str | None = None) -> datetime | None:
        for change in self.alert_changes:
            wanted = change.state == "firing" and alert in (None, change.alert)
            after_fault = self.fault_start is None or change.time >= self.fault_start
            if wanted and after_fault:
                return change.time
        return None

    def seconds_to_detect(self) -> float | None:
        """Fault injected -> first alert firing."""
        fired = self.first_firing()
        if fired is None or self.fault_start is None:
            return None
        return (fired - self.fault_start).total_seconds()

    def seconds_to_recover(self) -> float | None:
        """Last fault over -> first sample with no alert firing and no request waiting."""
        if self.fault_end is None:
            return None
        for sample in self.samples:
            when = parse_time(sample.get("time"))
            if when is None or when < self.fault_end:
                continue
            firing = [a for a, s in (sample.get("alerts") or {}).items() if s == "firing"]
            if not firing and not (sample.get("pool_pending") or 0):
                return (when - self.fault_end).total_seconds()
        return None

    def peak(self, key: str) -> float | None:
        values = [s[key] for s in self.samples if isinstance(s.get(key), int | float)]
        return max(values) if values else None


def _alert_changes(samples: list[dict[str, Any]]) -> list[AlertChange]:
    changes: list[AlertChange] = []
    previous: dict[str, str] = {}
    for sample in samples:
        when = parse_time(sample.get("time"))
        if when is None:
            continue
        current = dict(sample.get("alerts") or {})
        for alert, state in current.items():
            if previous.get(alert) != state:
                changes.append(AlertChange(when, alert, state))
        for alert in previous.keys() - current.keys():
            changes.append(AlertChange(when, alert, "resolved"))
        previous = current
    return changes


def facts_from_journal(journal: dict[str, Any]) -> Facts:
    timeline = journal.get("hubchaos_timeline") or {}
    samples = list(timeline.get("samples") or [])
    actions = [r for r in journal.get("run") or [] if r.get("activity", {}).get("type") == "action"]
    starts = [t for t in (parse_time(a.get("start")) for a in actions) if t]
    ends = [t for t in (parse_time(a.get("end")) for a in actions) if t]
    rollback_ends = [
        t for t in (parse_time(r.get("end")) for r in journal.get("rollbacks") or []) if t
    ]
    return Facts(
        started=parse_time(journal.get("start")),
        ended=parse_time(journal.get("end")),
        fault_start=min(starts) if starts else None,
        fault_end=max(ends + rollback_ends) if ends or rollback_ends else None,
        actions=actions,
        alert_changes=_alert_changes(samples),
        samples=samples,
        runbooks=dict(timeline.get("runbooks") or {}),
    )
