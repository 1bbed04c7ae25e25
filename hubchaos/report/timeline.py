"""The report's timeline: every injection, alert change, hypothesis check, rollback and
the recovery, in the order they happened, with UTC times and seconds since the start."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hubchaos.journal.facts import Facts, parse_time
from hubchaos.report.doc import Line, Section, Span, Table, bad, good, line, strong
from hubchaos.report.format import NBSP, clock, seconds
from hubchaos.verdict import Verdict

__all__ = ["timeline_section"]

# (time, order among events at the same time, kind for styling, text)
Event = tuple[datetime, int, str, Line]


def timeline_section(journal: dict[str, Any], verdict: Verdict, facts: Facts) -> Section:
    events = sorted(
        _run_events(journal, verdict, facts)
        + _hypothesis_events(journal)
        + _method_events(journal, facts)
        + _alert_events(facts)
        + _rollback_events(journal),
        key=lambda event: (event[0], event[1]),
    )
    rows = tuple(
        (line(clock(when)), line(_offset(facts, when)), text) for when, _, _, text in events
    )
    table = Table(("time (UTC)", "T+", "event"), rows, tuple(kind for _, _, kind, _ in events))
    return Section("Timeline", "timeline", (table,))


def _offset(facts: Facts, when: datetime) -> str:
    offset = facts.offset(when)
    return "" if offset is None else f"{offset:+.1f}{NBSP}s"


def _run_events(journal: dict[str, Any], verdict: Verdict, facts: Facts) -> list[Event]:
    events: list[Event] = []
    title = str((journal.get("experiment") or {}).get("title", "experiment"))
    if facts.started:
        events.append((facts.started, 0, "run", line("run started: ", strong(title))))
    recovered = facts.recovered_at()
    if recovered:
        events.append(
            (
                recovered,
                5,
                "recovered",
                line(
                    good("service recovered"),
                    ": no request waiting for a connection, under 1 % 5xx",
                ),
            )
        )
    safety = journal.get("hubchaos_safety")
    if facts.ended and isinstance(safety, dict):
        text = (
            line(
                good("clean-up: stack restored"), f" in {seconds(safety.get('seconds'), digits=2)}"
            )
            if safety.get("clean")
            else line(bad("clean-up: stack NOT restored"), ": see Safety and clean-up")
        )
        events.append((facts.ended, 8, "cleanup", text))
    if facts.ended:
        word = good(verdict.status_word) if verdict.passed else bad(verdict.status_word)
        events.append((facts.ended, 9, "run", line("run ended: ", word)))
    return events


def _hypothesis_events(journal: dict[str, Any]) -> list[Event]:
    events: list[Event] = []
    states = journal.get("steady_states") or {}
    phases = [("before", states.get("before")), ("after", states.get("after"))]
    phases += [("during", state) for state in states.get("during") or []]
    for phase, state in phases:
        probes = [p for p in (state or {}).get("probes") or [] if isinstance(p, dict)]
        ends = [t for t in (parse_time(p.get("end")) for p in probes) if t]
        if not ends:
            continue
        failed = [p["activity"].get("name") for p in probes if p.get("tolerance_met") is False]
        if failed:
            outcome = line(bad("not met"), ": ", strong(", ".join(map(str, failed))), " deviated")
        else:
            outcome = line(good("met"))
        text = line(f"steady state ({phase} the faults): ", *outcome)
        events.append((max(ends), 4, "hypothesis", text))
    return events


def _method_events(journal: dict[str, Any], facts: Facts) -> list[Event]:
    events: list[Event] = []
    for run in journal.get("run") or []:
        activity = run.get("activity") or {}
        name, kind = str(activity.get("name", "?")), activity.get("type", "activity")
        start, end = parse_time(run.get("start")), parse_time(run.get("end"))
        what = "injection" if kind == "action" else str(kind)
        background = " (in the background)" if activity.get("background") else ""
        if start:
            events.append(
                (
                    start,
                    1,
                    "fault" if kind == "action" else "probe",
                    line(f"{what} ", strong(name), f" started{background}"),
                )
            )
        if end:
            status = str(run.get("status", "?"))
            mark = good(status) if status == "succeeded" else bad(status)
            events.append(
                (
                    end,
                    2,
                    "fault-end" if kind == "action" else "probe",
                    line(f"{what} ", strong(name), " ended: ", mark),
                )
            )
    for window in facts.fault_windows:
        if window.lasting:
            events.append(
                (
                    window.end,
                    2,
                    "fault-end",
                    line("fault of ", strong(window.name), f" removed by {window.removed_by}"),
                )
            )
    return events


def _alert_events(facts: Facts) -> list[Event]:
    events: list[Event] = []
    already = facts.active_at_start()
    first_sample = facts.samples[0].get("time") if facts.samples else None
    for change in facts.alert_changes:
        if change.alert in already and change.time == parse_time(first_sample):
            text = line(
                "alert ",
                strong(change.alert),
                f" already {change.state} when the run started (left over from before)",
            )
            events.append((change.time, 3, change.state, text))
            continue
        text = line("alert ", strong(change.alert), " ", _alert_state(change.state))
        if change.state == "firing" and facts.fault_start and change.time >= facts.fault_start:
            delay = (change.time - facts.fault_start).total_seconds()
            text += line(f" ({delay:.1f} s after the first fault)")
        events.append((change.time, 3, change.state, text))
    last = facts.samples[-1].get("alerts") if facts.samples else None
    if facts.timeline_end and last:
        still = ", ".join(f"{alert} ({state})" for alert, state in sorted(last.items()))
        events.append(
            (
                facts.timeline_end,
                6,
                "timeline-end",
                line("timeline stops; still active: ", strong(still)),
            )
        )
    return events


def _alert_state(state: str) -> Span:
    if state == "firing":
        return bad("firing")
    if state == "resolved":
        return good("resolved")
    return strong(state)


def _rollback_events(journal: dict[str, Any]) -> list[Event]:
    events: list[Event] = []
    for run in journal.get("rollbacks") or []:
        name = str((run.get("activity") or {}).get("name", "?"))
        start, end = parse_time(run.get("start")), parse_time(run.get("end"))
        if start:
            events.append((start, 7, "rollback", line("rollback ", strong(name), " started")))
        if end:
            status = str(run.get("status", "?"))
            mark = good(status) if status == "succeeded" else bad(status)
            events.append((end, 7, "rollback", line("rollback ", strong(name), " ended: ", mark)))
    return events
