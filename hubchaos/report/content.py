"""What the report says, in the postmortem shape: summary and impact (report_summary),
timeline (report_timeline), graphs, hypothesis results, detection and recovery,
what deviated, score, clean-up.

Built from a journal that is already redacted; renderers only lay it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hubchaos.diagnosis.report import likely_cause_section
from hubchaos.journal.facts import RECOVERED_ERROR_RATE, RECOVERY_CONFIRM_SAMPLES, Facts
from hubchaos.report.doc import (
    Block,
    BulletList,
    Document,
    Figure,
    Line,
    Paragraph,
    Section,
    Table,
    bad,
    code,
    good,
    line,
    link,
    strong,
)
from hubchaos.report.format import (
    NBSP,
    compact,
    describe_tolerance,
    measured,
    not_measured_yet,
    runbook_href,
    seconds,
)
from hubchaos.report.plots import Plot
from hubchaos.report.summary import against, summary_section
from hubchaos.report.timeline import timeline_section
from hubchaos.score import DEFINITION, DETECT_TARGET_S, RECOVER_TARGET_S, Score
from hubchaos.verdict import Verdict

__all__ = ["build_document"]


def build_document(
    journal: dict[str, Any], verdict: Verdict, facts: Facts, score: Score, plots: Sequence[Plot]
) -> Document:
    title = str((journal.get("experiment") or {}).get("title", "Experiment"))
    return Document(
        title=title,
        status=verdict.status_word,
        sections=(
            likely_cause_section(journal),
            summary_section(journal, verdict, facts, score),
            timeline_section(journal, verdict, facts),
            _graphs(plots),
            _hypothesis(journal),
            _detection(facts),
            _deviations(verdict, facts),
            _score(score),
            _safety(journal),
        ),
    )


def _graphs(plots: Sequence[Plot]) -> Section:
    if not plots:
        text = "No graphs: the run has no timeline samples (add the hubchaos-timeline control)."
        return Section("Graphs", "graphs", (Paragraph(line(text)),))
    figures = tuple(Figure(p.name, p.title, p.description) for p in plots)
    return Section("Graphs", "graphs", figures)


# ----------------------------------------------------------------------- hypothesis


def _hypothesis(journal: dict[str, Any]) -> Section:
    states = journal.get("steady_states") or {}
    hypothesis = (journal.get("experiment") or {}).get("steady-state-hypothesis") or {}
    declared = [str(p.get("name")) for p in hypothesis.get("probes") or [] if isinstance(p, dict)]
    phases = [("before the faults", states.get("before"))]
    phases += [("during the faults", s) for s in states.get("during") or [] if s]
    phases.append(("after the faults", states.get("after")))
    subsections = []
    for phase, state in phases:
        if not state:
            blocks: tuple[Block, ...] = (Paragraph(line("Not checked: the run stopped before.")),)
        else:
            blocks = (_probe_table(state, declared),)
        subsections.append(Section(phase.capitalize(), f"hypothesis-{phase.split()[0]}", blocks))
    intro = Paragraph(line(strong(str(hypothesis.get("title", "No steady-state hypothesis")))))
    return Section("Hypothesis results", "hypothesis", (intro,), tuple(subsections))


def _probe_table(state: dict[str, Any], declared: list[str]) -> Table:
    rows: list[tuple[Line, ...]] = []
    kinds: list[str] = []
    ran = set()
    for probe in state.get("probes") or []:
        activity = probe.get("activity") or {}
        ran.add(str(activity.get("name")))
        met = probe.get("tolerance_met")
        if probe.get("status") != "succeeded":
            value, mark, kind = (
                line(_last_line(probe.get("exception"))),
                line(bad("error")),
                "error",
            )
        elif not_measured_yet(probe.get("output")):
            value, mark, kind = line(str(probe["output"]["note"])), line("not measured"), "skipped"
        else:
            value = line(code(measured(activity.get("tolerance"), probe.get("output"))))
            mark = line(good("yes")) if met else line(bad("no"))
            kind = "met" if met else "deviated"
        tolerance = line(code(describe_tolerance(activity.get("tolerance"))))
        rows.append((line(strong(str(activity.get("name")))), tolerance, value, mark))
        kinds.append(kind)
    for name in declared:
        if name not in ran:
            rows.append(
                (
                    line(strong(name)),
                    line(""),
                    line("not run"),
                    line("not run: the check stops at the first probe that fails"),
                )
            )
            kinds.append("skipped")
    return Table(("probe", "tolerance", "measured", "met"), tuple(rows), tuple(kinds))


def _last_line(exception: Any) -> str:
    """The last line of chaoslib's recorded traceback: the error itself."""
    chunks = exception if isinstance(exception, list) else [str(exception or "")]
    lines = [text.strip() for chunk in chunks for text in str(chunk).splitlines() if text.strip()]
    return compact(lines[-1], 120) if lines else "failed without an error message"


# ------------------------------------------------------------------------ detection


def _detection(facts: Facts) -> Section:
    first = facts.first_detection()
    detect = line(
        "Time to detect (first fault injected to first alert firing): ",
        *against(facts.seconds_to_detect(), DETECT_TARGET_S),
    )
    if first:
        detect += line("; first: ", strong(first.alert))
    elif facts.fault_start is None:
        detect += line("; no fault was injected")
    recover = line(
        "Time to recover (last fault over to the first sample from which on no request "
        f"waits for a connection and under {RECOVERED_ERROR_RATE:.0%} of responses are 5xx, "
        f"for at least {RECOVERY_CONFIRM_SAMPLES} samples): ",
        *against(facts.seconds_to_recover(), RECOVER_TARGET_S),
    )
    if facts.seconds_to_recover() is None and facts.fault_end and facts.timeline_end:
        watched = (facts.timeline_end - facts.fault_end).total_seconds()
        recover += line(f"; the timeline watched {max(watched, 0):.1f} s after the last fault")
    blocks: list[Block] = [BulletList((detect, recover))]
    blocks.append(
        _alert_table(facts)
        if facts.alerts_seen()
        else Paragraph(line("No alert was pending or firing during the run."))
    )
    return Section("Detection and recovery", "detection", tuple(blocks))


def _runbook(facts: Facts, alert: str) -> Line:
    url = facts.runbooks.get(alert)
    if not url:
        return line("no runbook annotation")
    href = runbook_href(url)
    return line(link(url, href)) if href else line(code(url))


def _alert_table(facts: Facts) -> Table:
    rows: list[tuple[Line, ...]] = []
    kinds: list[str] = []
    for alert in facts.alerts_seen():
        changes = [c for c in facts.alert_changes if c.alert == alert]
        pending = next((c.time for c in changes if c.state == "pending"), None)
        firing = facts.first_firing(alert) or next(
            (c.time for c in changes if c.state == "firing"), None
        )
        resolved = [c.time for c in changes if c.state == "resolved"]
        still = (facts.samples[-1].get("alerts") or {}).get(alert)
        delay = (
            (firing - facts.fault_start).total_seconds()
            if firing and facts.fault_start and firing >= facts.fault_start
            else None
        )
        end = (
            line(bad(f"still {still} at the end"))
            if still
            else line(_t(facts, resolved[-1] if resolved else None))
        )
        rows.append(
            (
                line(strong(alert)),
                line(_t(facts, pending)),
                line(_t(facts, firing)),
                line(seconds(delay, "—")),
                end,
                _runbook(facts, alert),
            )
        )
        kinds.append("firing" if firing else "pending")
    header = ("alert", "pending at", "firing at", "after the first fault", "resolved at", "runbook")
    return Table(header, tuple(rows), tuple(kinds))


def _t(facts: Facts, when: Any) -> str:
    offset = facts.offset(when) if when else None
    return "—" if offset is None else f"T+{offset:.1f}{NBSP}s"


# ------------------------------------------------------------------------ deviations


def _deviations(verdict: Verdict, facts: Facts) -> Section:
    items: list[Line] = []
    for deviation in verdict.deviations:
        items.append(
            line(
                "probe ",
                strong(str(deviation["probe"])),
                f" ({deviation['phase']} the faults): measured ",
                code(compact(deviation["value"], 80)),
                ", expected ",
                code(describe_tolerance(deviation["tolerance"])),
            )
        )
    for error in verdict.errors:
        items.append(
            line(
                bad("could not run"),
                f" {error['type']} ",
                strong(str(error["activity"])),
                f" ({error['phase']}): {compact(error['error'])}",
            )
        )
    blocks: list[Block] = [
        BulletList(tuple(items))
        if items
        else Paragraph(line(good("Nothing"), ": every probe met its tolerance."))
    ]
    fired = sorted({c.alert for c in facts.alert_changes if c.state == "firing"})
    if fired:
        blocks.append(Paragraph(line("Runbooks of the alerts that fired:")))
        blocks.append(BulletList(tuple(line(strong(a), ": ", *_runbook(facts, a)) for a in fired)))
    return Section("What deviated", "deviations", tuple(blocks))


# ----------------------------------------------------------------------------- score


def _score(score: Score) -> Section:
    rows = tuple(
        (line(strong(p.name)), line(f"{p.points:g}"), line(str(p.max)), line(p.why))
        for p in score.parts
    )
    definition = tuple(
        line(strong(name), f" (up to {most}): {what}") for name, most, what in DEFINITION
    )
    blocks: tuple[Block, ...] = (
        Paragraph(
            line(
                "Resilience score: ",
                strong(f"{score.value}/100"),
                f" ({score.points:g} of {score.max_points} points)",
            )
        ),
        Table(("part", "points", "max", "why"), rows),
        Paragraph(
            line(
                strong("How it is computed: "),
                "100 x points earned / points possible, from the journal alone. The parts:",
            )
        ),
        BulletList(definition),
    )
    return Section("Resilience score", "score", blocks)


# ---------------------------------------------------------------------------- safety


def _safety(journal: dict[str, Any]) -> Section:
    items: list[Line] = []
    safety = journal.get("hubchaos_safety")
    if not isinstance(safety, dict):
        items.append(line(bad("no safety control"), ": nothing shows the stack was restored"))
    else:
        state = good("restored") if safety.get("clean") else bad("NOT fully restored")
        items.append(line("Stack ", state, f" in {seconds(safety.get('seconds'), digits=2)}"))
        floods = safety.get("floods_stopped") or {}
        items.append(
            line(
                f"Floods still running at the end and stopped: "
                f"{floods.get('count', 0) if isinstance(floods, dict) else '?'}"
            )
        )
        undone = (safety.get("toxiproxy_undone") or {}).get("undone") or []
        names = ", ".join(
            f"{u.get('proxy')}/{u.get('toxic') or 'enabled again'}"
            for u in undone
            if isinstance(u, dict)
        )
        items.append(line(f"Toxics removed and proxies re-enabled: {names or 'none needed'}"))
        for fault in safety.get("left_behind") or []:  # not the run's: a third-party activity's
            items.append(line(bad("left behind, removed"), f": {compact(str(fault))}"))
        items.append(
            line(f"hubchaos connections left in PostgreSQL: {safety.get('leftover_connections')}")
        )
        for error in safety.get("errors") or []:
            items.append(line(bad("problem"), f": {compact(error)}"))
    for run in journal.get("rollbacks") or []:
        status = str(run.get("status", "?"))
        mark = good(status) if status == "succeeded" else bad(status)
        items.append(
            line("Rollback ", strong(str((run.get("activity") or {}).get("name"))), ": ", mark)
        )
    return Section("Safety and clean-up", "cleanup", (BulletList(tuple(items)),))
