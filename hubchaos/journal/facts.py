"""Facts a report needs, read from a journal: faults, alerts, detection and recovery times.

Everything here is derived from what the run recorded (chaoslib's journal
plus the timeline and safety controls' additions), never from assumptions.
The timeline control samples the stack once a second, so every time derived
from samples is accurate to about a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hubchaos.journal.faults import FaultWindow, fault_windows
from hubchaos.journal.timestamps import parse_time

__all__ = [
    "RECOVERED_ERROR_RATE",
    "RECOVERY_CONFIRM_SAMPLES",
    "AlertChange",
    "AlertPeriod",
    "Facts",
    "facts_from_journal",
    "parse_time",
]

# Below this share of 5xx responses the service counts as answering again.
RECOVERED_ERROR_RATE = 0.01
# One healthy sample right as the run ends is not a recovery; three in a row (~2 s) are.
RECOVERY_CONFIRM_SAMPLES = 3


@dataclass(frozen=True)
class AlertChange:
    time: datetime
    alert: str
    state: str  # pending | firing | resolved


@dataclass(frozen=True)
class AlertPeriod:
    alert: str
    state: str  # pending | firing
    start: datetime
    end: datetime
    open_at_end: bool  # still in this state at the last sample


@dataclass
class Facts:
    started: datetime | None
    ended: datetime | None
    fault_windows: list[FaultWindow] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    alert_changes: list[AlertChange] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    runbooks: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ faults

    @property
    def fault_start(self) -> datetime | None:
        return min((w.start for w in self.fault_windows), default=None)

    @property
    def fault_end(self) -> datetime | None:
        """When the last fault stopped: the last action ended or the last toxic was removed."""
        return max((w.end for w in self.fault_windows), default=None)

    # --------------------------------------------------------------- timeline

    @property
    def origin(self) -> datetime | None:
        """Time zero of the run: its start, else its first sample."""
        return self.started or (self._time(self.samples[0]) if self.samples else None)

    @property
    def timeline_end(self) -> datetime | None:
        times = [t for t in (self._time(s) for s in self.samples) if t]
        return max(times, default=None)

    def offset(self, when: datetime | None) -> float | None:
        """Seconds from the start of the run to `when`."""
        origin = self.origin
        return None if when is None or origin is None else (when - origin).total_seconds()

    def value(self, sample: dict[str, Any], key: str) -> float | None:
        """A sample's value; no 5xx series while requests were served means a 0 % error rate."""
        value = sample.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if key == "error_rate":
            served = sample.get("requests_per_second")
            if isinstance(served, int | float) and served > 0:
                return 0.0
        return None

    def series(self, key: str) -> list[tuple[datetime, float | None]]:
        return [(t, self.value(s, key)) for s in self.samples if (t := self._time(s))]

    def peak(
        self, key: str, start: datetime | None = None, end: datetime | None = None
    ) -> float | None:
        values = [
            v
            for t, v in self.series(key)
            if v is not None and (start is None or t >= start) and (end is None or t <= end)
        ]
        return max(values, default=None)

    def before_fault(self, key: str) -> float | None:
        """The last value sampled before the first fault (the run's baseline)."""
        values = [
            v
            for t, v in self.series(key)
            if v is not None and (self.fault_start is None or t < self.fault_start)
        ]
        return values[-1] if values else None

    def at_end(self, key: str) -> float | None:
        values = [v for _, v in self.series(key) if v is not None]
        return values[-1] if values else None

    # ----------------------------------------------------------------- alerts

    def active_at_start(self) -> dict[str, str]:
        """Alerts already pending or firing at the first sample (left over from before)."""
        return dict(self.samples[0].get("alerts") or {}) if self.samples else {}

    def first_firing(self, alert: str | None = None) -> datetime | None:
        """The first time `alert` (any alert if None) started firing after the first fault."""
        for change in self.alert_changes:
            wanted = change.state == "firing" and alert in (None, change.alert)
            after_fault = self.fault_start is None or change.time >= self.fault_start
            if wanted and after_fault:
                return change.time
        return None

    def first_detection(self) -> AlertChange | None:
        fired = self.first_firing()
        if fired is None or self.fault_start is None:
            return None
        return next(c for c in self.alert_changes if c.time == fired and c.state == "firing")

    def seconds_to_detect(self) -> float | None:
        """First fault injected -> first alert firing."""
        fired = self.first_firing()
        if fired is None or self.fault_start is None:
            return None
        return (fired - self.fault_start).total_seconds()

    def alert_periods(self, state: str = "firing") -> list[AlertPeriod]:
        """Every stretch of samples during which an alert was in `state`."""
        periods: list[AlertPeriod] = []
        began: dict[str, datetime] = {}
        last: datetime | None = None
        for sample in self.samples:
            when = self._time(sample)
            if when is None:
                continue
            alerts = sample.get("alerts") or {}
            for alert in [a for a in began if alerts.get(a) != state]:
                periods.append(AlertPeriod(alert, state, began.pop(alert), when, False))
            for alert, current in alerts.items():
                if current == state and alert not in began:
                    began[alert] = when
            last = when
        for alert, start in began.items():
            periods.append(AlertPeriod(alert, state, start, last or start, True))
        periods.sort(key=lambda p: (p.start, p.alert))
        return periods

    def alerts_seen(self) -> list[str]:
        """Every alert that was pending or firing at some sample, in order of appearance."""
        seen: dict[str, None] = {}
        for change in self.alert_changes:
            seen.setdefault(change.alert)
        return list(seen)

    # --------------------------------------------------------------- recovery

    def recovered_at(self) -> datetime | None:
        """From when on, once the last fault stopped, every sample showed the service
        healthy: no request waiting for a connection and a 5xx share under
        RECOVERED_ERROR_RATE (a 5 s rate, so it lags by up to 5 s). It takes
        RECOVERY_CONFIRM_SAMPLES healthy samples in a row to call it recovered."""
        if self.fault_end is None:
            return None
        recovered: datetime | None = None
        healthy_samples = 0
        for sample in self.samples:
            when = self._time(sample)
            if when is None or when < self.fault_end:
                continue
            pending = self.value(sample, "pool_pending")
            errors = self.value(sample, "error_rate")
            if pending == 0 and (errors is None or errors < RECOVERED_ERROR_RATE):
                recovered = recovered or when
                healthy_samples += 1
            else:
                recovered, healthy_samples = None, 0
        return recovered if healthy_samples >= RECOVERY_CONFIRM_SAMPLES else None

    def seconds_to_recover(self) -> float | None:
        """Last fault over -> service recovered (see `recovered_at`)."""
        recovered = self.recovered_at()
        if recovered is None or self.fault_end is None:
            return None
        return (recovered - self.fault_end).total_seconds()

    @staticmethod
    def _time(sample: dict[str, Any]) -> datetime | None:
        return parse_time(sample.get("time"))


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
        for alert in sorted(previous.keys() - current.keys()):  # a set: same order every run
            changes.append(AlertChange(when, alert, "resolved"))
        previous = current
    return changes


def facts_from_journal(journal: dict[str, Any]) -> Facts:
    timeline = journal.get("hubchaos_timeline") or {}
    samples = [s for s in timeline.get("samples") or [] if isinstance(s, dict)]
    actions = [r for r in journal.get("run") or [] if r.get("activity", {}).get("type") == "action"]
    return Facts(
        started=parse_time(journal.get("start")),
        ended=parse_time(journal.get("end")),
        fault_windows=fault_windows(journal),
        actions=actions,
        alert_changes=_alert_changes(samples),
        samples=samples,
        runbooks=dict(timeline.get("runbooks") or {}),
    )
