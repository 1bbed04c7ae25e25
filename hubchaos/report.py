"""The run report in the postmortem shape the team already reads.

Summary, impact in numbers, timeline, hypothesis results against their
tolerances, time to detect and to recover, what deviated with the runbook
links of the alerts that fired, and whether the stack was restored. Written
as Markdown; secrets are redacted before anything is rendered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hubchaos.journal_facts import Facts, facts_from_journal, parse_time
from hubchaos.redact import redact
from hubchaos.verdict import Verdict, verdict_from_journal

__all__ = ["render_markdown", "write_report"]

VALUE_CHARS = 160


def write_report(journal: dict[str, Any], out_dir: Path, stem: str = "report") -> list[Path]:
    """Write `<stem>.md` into `out_dir`; return the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = out_dir / f"{stem}.md"
    markdown.write_text(render_markdown(journal))
    return [markdown]


def _fmt_seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def _fmt(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _clock(value: Any) -> str:
    when = parse_time(value) if isinstance(value, str) else value
    return when.strftime("%H:%M:%S") if when else "?"


def render_markdown(journal: dict[str, Any]) -> str:
    journal = redact(journal)
    verdict = verdict_from_journal(journal)
    facts = facts_from_journal(journal)
    experiment = journal.get("experiment") or {}
    parts = [
        f"# {experiment.get('title', 'Experiment')}: {verdict.status_word}",
        "",
        _summary(journal, verdict, facts),
        _timeline(journal, facts),
        _hypothesis(journal),
        _detection(facts),
        _deviations(verdict, facts),
        _safety(journal),
    ]
    return "\n".join(parts).rstrip() + "\n"


def _summary(journal: dict[str, Any], verdict: Verdict, facts: Facts) -> str:
    duration = journal.get("duration")
    lines = [
        "## Summary",
        "",
        f"- **Verdict:** {verdict.summary_line} (exit code {verdict.code})",
        f"- **Started:** {journal.get('start', '?')}; **duration:** "
        f"{_fmt_seconds(duration if isinstance(duration, int | float) else None)}",
        f"- **Hypothesis:** {(journal.get('experiment') or {}).get('description', '').strip()}",
        "",
        "### Impact in numbers",
        "",
        "| measure | peak during the run |",
        "|---|---|",
    ]
    for label, key in (
        ("app pool connections in use", "pool_used"),
        ("requests waiting for a connection", "pool_pending"),
        ("PostgreSQL connections", "db_connections"),
        ("p95 request latency (s)", "p95_latency_seconds"),
        ("share of 5xx responses", "error_rate"),
    ):
        peak = facts.peak(key)
        lines.append(f"| {label} | {'n/a' if peak is None else f'{peak:g}'} |")
    limit = facts.peak("db_max_connections")
    if limit is not None:
        lines.append(f"| PostgreSQL max_connections | {limit:g} |")
    lines.append("")
    return "\n".join(lines)


def _timeline(journal: dict[str, Any], facts: Facts) -> str:
    rows: list[tuple[Any, str]] = []
    for run in journal.get("run") or []:
        activity = run.get("activity", {})
        kind = activity.get("type", "activity")
        rows.append((parse_time(run.get("start")), f"{kind} **{activity.get('name')}** started"))
        rows.append(
            (parse_time(run.get("end")), f"{kind} **{activity.get('name')}** {run.get('status')}")
        )
    for change in facts.alert_changes:
        rows.append((change.time, f"alert **{change.alert}** {change.state}"))
    for run in journal.get("rollbacks") or []:
        name = run.get("activity", {}).get("name")
        rows.append((parse_time(run.get("end")), f"rollback **{name}** {run.get('status')}"))
    rows = [(when, text) for when, text in rows if when is not None]
    rows.sort(key=lambda row: row[0])
    lines = ["## Timeline", "", "| time (UTC) | event |", "|---|---|"]
    lines += [f"| {_clock(when)} | {text} |" for when, text in rows]
    if not rows:
        lines.append("| | no events recorded |")
    lines.append("")
    return "\n".join(lines)


def _hypothesis(journal: dict[str, Any]) -> str:
    lines = [
        "## Hypothesis results",
        "",
        "| phase | probe | tolerance | measured | met |",
        "|---|---|---|---|---|",
    ]
    states = journal.get("steady_states") or {}
    for phase in ("before", "after"):
        state = states.get(phase) or {}
        for probe in state.get("probes") or []:
            activity = probe.get("activity", {})
            met = probe.get("tolerance_met")
            mark = "yes" if met else ("no" if met is False else "not judged")
            lines.append(
                f"| {phase} | {activity.get('name')} | {_fmt(activity.get('tolerance'))} | "
                f"{_fmt(probe.get('output'))} | {mark} |"
            )
    lines.append("")
    return "\n".join(lines)


def _detection(facts: Facts) -> str:
    lines = [
        "## Detection and recovery",
        "",
        f"- **Time to detect** (first fault injected to first alert firing): "
        f"{_fmt_seconds(facts.seconds_to_detect())}",
        f"- **Time to recover** (last fault removed to no alert firing and no request "
        f"waiting): {_fmt_seconds(facts.seconds_to_recover())}",
    ]
    fired = sorted({c.alert for c in facts.alert_changes if c.state == "firing"})
    for alert in fired:
        first = facts.first_firing(alert)
        delay = (first - facts.fault_start).total_seconds() if first and facts.fault_start else None
        lines.append(f"- {alert} fired {_fmt_seconds(delay)} after the first fault")
    lines.append("")
    return "\n".join(lines)


def _deviations(verdict: Verdict, facts: Facts) -> str:
    lines = ["## What deviated", ""]
    if not verdict.deviations and not verdict.errors:
        lines.append("Nothing: every probe met its tolerance.")
    for deviation in verdict.deviations:
        lines.append(
            f"- probe **{deviation['probe']}** ({deviation['phase']}): measured "
            f"`{_fmt(deviation['value'])}`, tolerance `{_fmt(deviation['tolerance'])}`"
        )
    for error in verdict.errors:
        lines.append(f"- could not run **{error['activity']}**: {_fmt(error['error'])}")
    fired = sorted({c.alert for c in facts.alert_changes if c.state == "firing"})
    if fired:
        lines += ["", "Runbooks of the alerts that fired:", ""]
        for alert in fired:
            lines.append(f"- {alert}: {facts.runbooks.get(alert, 'no runbook annotation')}")
    lines.append("")
    return "\n".join(lines)


def _safety(journal: dict[str, Any]) -> str:
    safety = journal.get("hubchaos_safety")
    if not safety:
        return "## Clean-up\n\nThe safety control was not part of this run.\n"
    state = "restored" if safety.get("clean") else "NOT fully restored"
    return (
        "## Clean-up\n\n"
        f"Stack {state} in {_fmt_seconds(safety.get('seconds'))}: toxics removed "
        f"`{_fmt(safety.get('toxiproxy_undone'))}`, floods stopped "
        f"`{_fmt(safety.get('floods_stopped'))}`, hubchaos connections left: "
        f"{safety.get('leftover_connections')}.\n"
    )
