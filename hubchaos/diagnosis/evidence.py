"""What the diagnosis may look at: the run's samples and the actions it injected.

Built the same way from a finished journal (`from_journal`) and from a run in
progress (`Evidence(samples, injections)` with what the live sampler and the
run events gave so far), so the live panel and the report agree. The window
starts at the first method action (the first fault), as the report's
detection time does.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hubchaos.journal.timestamps import parse_time

__all__ = ["Evidence", "Injection", "from_journal", "number"]


@dataclass(frozen=True)
class Injection:
    """One method action: what the run did to the stack, and what it reported."""

    name: str
    func: str
    arguments: Mapping[str, Any]
    started: datetime
    output: Any = None

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.arguments.items() if k != "routes")
        return f"{self.func}({shown})" if shown else self.func


@dataclass
class Evidence:
    samples: list[dict[str, Any]] = field(default_factory=list)
    injections: list[Injection] = field(default_factory=list)
    # When the rollbacks began: what they do (restarts, undoing faults) is not a symptom.
    rollbacks_started: datetime | None = None

    # ------------------------------------------------------------------ window

    @property
    def fault_start(self) -> datetime | None:
        return min((i.started for i in self.injections), default=None)

    def sample_time(self, sample: Mapping[str, Any]) -> datetime | None:
        return parse_time(sample.get("time"))

    @property
    def during(self) -> list[dict[str, Any]]:
        """Samples from the first fault on (none before any fault)."""
        start, end = self.fault_start, self.rollbacks_started
        if start is None:
            return []
        return [
            s
            for s in self.samples
            if (t := self.sample_time(s)) is not None and t >= start and (end is None or t < end)
        ]

    @property
    def before(self) -> list[dict[str, Any]]:
        start = self.fault_start
        return [
            s
            for s in self.samples
            if (t := self.sample_time(s)) is not None and (start is None or t < start)
        ]

    def seconds_after_fault(self, sample: Mapping[str, Any]) -> float | None:
        start, taken = self.fault_start, self.sample_time(sample)
        return None if start is None or taken is None else (taken - start).total_seconds()

    def until(self, moment: datetime) -> Evidence:
        """The evidence as it stood at `moment`: what a live view knew then."""
        return Evidence(
            [s for s in self.samples if (t := self.sample_time(s)) is not None and t <= moment],
            [i for i in self.injections if i.started <= moment],
            self.rollbacks_started
            if self.rollbacks_started and self.rollbacks_started <= moment
            else None,
        )

    # ------------------------------------------------------------------ values

    def values(self, key: str) -> list[float]:
        return [v for s in self.during if (v := number(s.get(key))) is not None]

    def peak(self, key: str) -> float | None:
        return max(self.values(key), default=None)

    def total(self, key: str) -> float:
        """Sum of a per-5 s increase sampled every second, scaled back to events (about)."""
        return sum(self.values(key)) / 5.0

    def baseline(self, key: str) -> float | None:
        """Median before the first fault: what normal looked like on this stack."""
        before = [v for s in self.before if (v := number(s.get(key))) is not None]
        return statistics.median(before) if before else None

    def peak_sample(self, key: str) -> dict[str, Any] | None:
        scored = [(v, s) for s in self.during if (v := number(s.get(key))) is not None]
        return max(scored, key=lambda pair: pair[0])[1] if scored else None

    def longest_run(self, holds: Callable[[Mapping[str, Any]], bool]) -> int:
        """The most consecutive samples (about seconds) during which `holds` is true."""
        best = current = 0
        for sample in self.during:
            current = current + 1 if holds(sample) else 0
            best = max(best, current)
        return best

    def first_firing(self) -> dict[str, float]:
        """Alerts that began firing after the first fault: seconds after it, in firing order."""
        before = self.before[-1:] if self.before else []
        already = {n for s in before for n, st in (s.get("alerts") or {}).items() if st == "firing"}
        order: dict[str, float] = {}
        for sample in self.during:
            for name, state in (sample.get("alerts") or {}).items():
                if state == "firing" and name not in order and name not in already:
                    order[name] = self.seconds_after_fault(sample) or 0.0
        return order

    def fired_lines(self, *names: str) -> list[str]:
        """Evidence lines for those of `names` that fired after the first fault."""
        fired = self.first_firing()
        return [f"{n} fired {fired[n]:.0f} s after the first fault" for n in names if n in fired]

    # -------------------------------------------------------------- injections

    def injected(self, *funcs: str) -> list[Injection]:
        return [i for i in self.injections if i.func in funcs]

    def toxics(self, *kinds: str) -> list[Injection]:
        """Toxics of these types, whichever action added them (ours or chaostoolkit-toxiproxy)."""
        found = []
        for injection in self.injections:
            kind = injection.arguments.get("type") or injection.arguments.get("toxic_type")
            named = {f"add_{k}" for k in kinds} | {f"create_{k}_toxic" for k in kinds}
            if injection.func in named or (kind in kinds and "toxic" in injection.func):
                found.append(injection)
        return found


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value == value else None


def from_journal(journal: Mapping[str, Any]) -> Evidence:
    """The evidence a finished (or interrupted) run recorded in its journal."""
    timeline = journal.get("hubchaos_timeline") or {}
    samples = [s for s in timeline.get("samples") or [] if isinstance(s, dict)]
    rollbacks = [parse_time(r.get("start")) for r in journal.get("rollbacks") or []]
    began = min((t for t in rollbacks if t is not None), default=None)
    return Evidence(samples, list(_injections(journal.get("run") or [])), began)


def _injections(runs: Iterable[Any]) -> Iterable[Injection]:
    for run in runs:
        if not isinstance(run, dict):
            continue
        activity = run.get("activity") or {}
        started = parse_time(run.get("start"))
        if activity.get("type") != "action" or started is None:
            continue
        yield injection_of(activity, started, run.get("output"))


def injection_of(activity: Mapping[str, Any], started: datetime, output: Any = None) -> Injection:
    provider = activity.get("provider") or {}
    arguments = provider.get("arguments")
    return Injection(
        name=str(activity.get("name", "?")),
        func=str(provider.get("func") or provider.get("path") or "?"),
        arguments=arguments if isinstance(arguments, dict) else {},
        started=started,
        output=output,
    )
