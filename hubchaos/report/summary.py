"""The report's summary: verdict, score, duration, faults, times to detect and recover,
and the impact in numbers (the stack's gauges and what the floods measured)."""

from __future__ import annotations

from typing import Any

from hubchaos.journal.facts import Facts
from hubchaos.report.doc import (
    Block,
    BulletList,
    Line,
    Paragraph,
    Section,
    Span,
    Table,
    bad,
    good,
    line,
    strong,
)
from hubchaos.report.format import compact, number, seconds
from hubchaos.report.impact import FORMULA, impact_rows
from hubchaos.score import DETECT_TARGET_S, RECOVER_TARGET_S, Score
from hubchaos.verdict import Verdict

__all__ = ["against", "summary_section", "verdict_span"]

# (label, sample key, unit)
IMPACT_MEASURES = (
    ("app pool connections in use", "pool_used", ""),
    ("app pool maximum (all replicas)", "pool_max", ""),
    ("requests waiting for a connection", "pool_pending", ""),
    ("PostgreSQL connections", "db_connections", ""),
    ("PostgreSQL max_connections", "db_max_connections", ""),
    ("p95 request latency", "p95_latency_seconds", " s"),
    ("share of 5xx responses", "error_rate", " %"),
    ("requests per second", "requests_per_second", ""),
)


def verdict_span(verdict: Verdict) -> Span:
    return good(verdict.status_word) if verdict.passed else bad(verdict.status_word)


def against(value: float | None, target: float) -> Line:
    if value is None:
        return line(bad("not observed"))
    mark = good("within") if value <= target else bad("over")
    return line(strong(seconds(value)), " (", mark, f" the {target:g} s target)")


def summary_section(
    journal: dict[str, Any], verdict: Verdict, facts: Facts, score: Score
) -> Section:
    duration = journal.get("duration")
    items = [
        line(
            "Verdict: ",
            verdict_span(verdict),
            f" (exit code {verdict.code}): ",
            verdict.summary_line.split(": ", 1)[-1],
        ),
        line("Resilience score: ", strong(f"{score.value}/100"), " (see Resilience score)"),
        line(
            f"Started {journal.get('start', '?')}, ended {journal.get('end', '?')}; duration ",
            strong(seconds(duration if isinstance(duration, int | float) else None)),
        ),
        line(
            "Time to detect: ",
            *against(facts.seconds_to_detect(), DETECT_TARGET_S),
            "; time to recover: ",
            *against(facts.seconds_to_recover(), RECOVER_TARGET_S),
        ),
    ]
    for window in facts.fault_windows:
        start, end = facts.offset(window.start) or 0.0, facts.offset(window.end) or 0.0
        items.append(
            line(
                "Fault: ",
                strong(window.name),
                f" from T+{start:.1f} s to T+{end:.1f} s ({end - start:.1f} s)",
            )
        )
    description = str((journal.get("experiment") or {}).get("description", "")).strip()
    blocks: list[Block] = [BulletList(tuple(items))]
    if description:
        blocks.append(Paragraph(line(strong("Hypothesis and scenario: "), description)))
    return Section("Summary", "summary", tuple(blocks), (_impact(journal, facts),))


def _impact(journal: dict[str, Any], facts: Facts) -> Section:
    rows: list[tuple[Line, ...]] = []
    for label, key, unit in IMPACT_MEASURES:
        scale = 100.0 if key == "error_rate" else 1.0
        values = (
            facts.before_fault(key),
            facts.peak(key, facts.fault_start, facts.fault_end),
            facts.at_end(key),
        )
        cells = [number(None if v is None else v * scale, unit) for v in values]
        rows.append((line(label), *(line(cell) for cell in cells)))
    blocks: list[Block] = []
    if facts.samples:
        header = ("measure", "before the faults", "peak during the faults", "at the end")
        blocks.append(Table(header, tuple(rows)))
    else:
        blocks.append(
            Paragraph(
                line("No timeline samples: the hubchaos-timeline control was not part of this run.")
            )
        )
    felt = impact_rows(journal)
    if felt:
        header = ("as users felt it", "before the faults", "during the faults", "after the faults")
        blocks.append(Table(header, tuple(tuple(line(cell) for cell in row) for row in felt)))
        blocks.append(Paragraph(line(strong("How it is computed: "), FORMULA)))
    load = _load_lines(journal)
    if load:
        blocks += [Paragraph(line(strong("Load the experiment generated:"))), BulletList(load)]
    return Section("Impact in numbers", "impact", tuple(blocks))


def _load_lines(journal: dict[str, Any]) -> tuple[Line, ...]:
    """One line per flood or spike of the method, from what the action measured."""
    lines: list[Line] = []
    for run in journal.get("run") or []:
        output, name = run.get("output"), str((run.get("activity") or {}).get("name", "?"))
        if not isinstance(output, dict):
            continue
        if output.get("kind") == "http":
            lines.append(line(strong(name), ": ", _http_load(output)))
        elif output.get("kind") in ("db_logins", "tcp_connections"):
            lines.append(line(strong(name), ": ", _connection_load(output)))
        elif output.get("kind") == "cluster_http":
            lines.append(line(strong(name), ": ", _cluster_load(output)))
    lost = journal.get("hubchaos_transport_errors") or {}
    if lost.get("total"):  # requests that never reached the app: its metrics cannot show them
        kinds = ", ".join(f"{kind} {n}" for kind, n in (lost.get("by_kind") or {}).items())
        lines.append(line(strong("transport errors of the load"), f": {lost['total']} ({kinds})"))
    return tuple(lines)


def _http_load(output: dict[str, Any]) -> str:
    statuses = ", ".join(f"{s}: {n}" for s, n in (output.get("status_counts") or {}).items())
    errors = output.get("errors_by_kind") or {}
    fast_share = 100 * float(output.get("fast_503_share") or 0)
    return (
        f"{output.get('requests', 0)} HTTP requests "
        f"({number(output.get('requests_per_second'))}/s); "
        f"responses by status {statuses or 'none'}; "
        f"fast 503 share {number(fast_share, ' %')}; "
        f"transport errors {compact(errors, 80) if errors else 'none'}; "
        f"p95 {number((output.get('latency_ms') or {}).get('p95'), ' ms')}"
    )


def _cluster_load(output: dict[str, Any]) -> str:
    """A flood from a Job's pods: how many pods did what, from their own counts."""
    statuses = ", ".join(f"{s}: {n}" for s, n in (output.get("status_counts") or {}).items())
    errors = output.get("errors_by_kind") or {}
    return (
        f"{output.get('pods_succeeded', 0)} of {output.get('parallelism', 0)} pods of Job "
        f"{output.get('job', '?')} ({output.get('job_condition', '?')}) sent "
        f"{output.get('requests', 0)} HTTP requests "
        f"({number(output.get('requests_per_second'))}/s); "
        f"responses by status {statuses or 'none'}; "
        f"transport errors {compact(errors, 80) if errors else 'none'}"
    )


def _connection_load(output: dict[str, Any]) -> str:
    what = "database logins" if output["kind"] == "db_logins" else "TCP connections"
    refusals = "; ".join(
        f"{r.get('count')} x {r.get('sqlstate')} ({r.get('message')})"
        for r in output.get("refusals") or []
        if isinstance(r, dict)
    )
    errors = output.get("errors_by_kind") or {}
    text = (
        f"{output.get('attempted', 0)} {what}, {output.get('succeeded', 0)} succeeded "
        f"(peak {output.get('peak_open', 0)} open), {output.get('failed', 0)} failed"
    )
    if refusals:
        text += f": refused {refusals}"
    elif errors:
        text += f": errors {compact(errors, 80)}"
    return text
