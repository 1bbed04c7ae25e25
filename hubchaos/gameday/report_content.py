"""What the game day's combined report says, as a `hubchaos.report.doc` document.

Summary, every experiment's verdict, score and times to detect and recover
(with its connection and alert graphs and a link to its full report), the
timeline of the steps, every observation with its time, what the room was
told, and the combined resilience score with its definition.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hubchaos.gameday.facilitation import TYPED
from hubchaos.gameday.recap import alerts_in_order
from hubchaos.gameday.record import ExperimentResult, GameDayRecord
from hubchaos.private.redact import redact_text
from hubchaos.report.doc import (
    Block,
    BulletList,
    Document,
    Figure,
    Line,
    Paragraph,
    Section,
    Span,
    Table,
    bad,
    code,
    good,
    line,
    link,
    strong,
)
from hubchaos.report.format import NBSP, clock, seconds
from hubchaos.score import DEFINITION, Score, combine

__all__ = [
    "FIGURES",
    "SCORE_COMBINATION",
    "figure_name",
    "gameday_document",
    "gameday_score",
    "relative",
]

# The graphs each experiment shows in the combined report: the incident's core
# (connections against PostgreSQL's limit) and what the room had to read (alerts).
FIGURES = ("database", "alerts")
SCORE_COMBINATION = (
    "The game day's score adds up every experiment run's parts: for each part, the "
    "points earned and the points possible are summed over the runs, and the score "
    "is 100 x all points earned / all points possible, rounded. A run that was "
    "interrupted counts with what it earned; a game day without a run has no score."
)


def gameday_score(record: GameDayRecord) -> Score:
    return combine(result.score for result in record.experiments if result.score is not None)


def figure_name(result: ExperimentResult, plot: str) -> str:
    return f"step{result.step + 1}-{plot}"


def relative(path: Path, out_dir: Path) -> str:
    """`path` as a link from the report directory (absolute when it lies elsewhere)."""
    try:
        return path.resolve().relative_to(out_dir.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def gameday_document(record: GameDayRecord, out_dir: Path, plot_names: set[str]) -> Document:
    score = gameday_score(record)
    return Document(
        title=f"Game day: {record.plan.title}",
        status=record.status_word,
        sections=(
            _summary(record, score),
            _experiments(record, out_dir, plot_names),
            _timeline(record),
            _observations(record),
            _briefings(record),
            _score(record, score),
        ),
    )


def _status_span(record: GameDayRecord) -> Span:
    word = record.status_word
    return good(word) if word == "passed" else bad(word)


def _summary(record: GameDayRecord, score: Score) -> Section:
    plan = record.plan
    ended = record.ended
    duration = seconds(record.offset(ended), digits=0) if ended else "n/a"
    planned = len(plan.experiments)
    typed = [o for o in record.observations if o.source in TYPED]
    items: list[Line] = [
        line("Outcome: ", _status_span(record), f" (exit code {record.exit_code})"),
    ]
    if record.interrupted:
        items.append(line(bad("Interrupted"), f": {record.interrupted}; this report is partial"))
    if record.failure:
        items.append(line(bad("Stopped by an error"), f": {redact_text(record.failure)}"))
    items += [
        line(
            "When: ",
            f"{_stamp(record.started)} to {_stamp(ended) if ended else '?'} UTC ({duration})",
        ),
        line(
            "Plan: ",
            code(str(plan.path)),
            f"; steps done: {len(record.steps)} of {len(plan.steps)}",
        ),
        line("Facilitation: ", record.mode),
        line(f"Experiments run: {len(record.experiments)} of {planned}"),
        line(f"Observations typed: {len(typed)} (questions asked: {_questions_asked(record)})"),
        line("Resilience score of the game day: ", *_score_words(record, score)),
    ]
    items += [line("Stack: ", note) for note in record.stack_notes]
    blocks: list[Block] = [BulletList(tuple(items))]
    if plan.description:
        blocks.append(Paragraph(line(plan.description)))
    return Section("Summary", "summary", tuple(blocks))


def _score_words(record: GameDayRecord, score: Score) -> tuple[Span | str, ...]:
    if not record.experiments:
        return ("none (no experiment ran)",)
    return (strong(f"{score.value}/100"), " (see Resilience score)")


def _questions_asked(record: GameDayRecord) -> int:
    return len({(o.step, o.question) for o in record.observations})


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def _experiments(record: GameDayRecord, out_dir: Path, plot_names: set[str]) -> Section:
    if not record.experiments:
        return Section("Experiments", "experiments", (Paragraph(line("No experiment ran.")),))
    rows = tuple(_experiment_row(result) for result in record.experiments)
    table = Table(
        ("step", "experiment", "profile", "verdict", "score", "to detect", "to recover", "ran for"),
        rows,
        tuple(r.verdict.status_word for r in record.experiments),
    )
    details = tuple(_experiment_detail(r, out_dir, plot_names) for r in record.experiments)
    return Section("Experiments", "experiments", (table,), details)


def _verdict(result: ExperimentResult) -> Span:
    return (
        good(result.verdict.status_word)
        if result.verdict.passed
        else bad(result.verdict.status_word)
    )


def _verdict_reason(result: ExperimentResult) -> str:
    """The summary line without its leading status word, which the report shows styled."""
    text = result.verdict.summary_line
    head = f"{result.verdict.status_word}: "
    return text[len(head) :] if text.startswith(head) else text


def _experiment_row(result: ExperimentResult) -> tuple[Line, ...]:
    score = f"{result.score.value}/100" if result.score else "n/a"
    return (
        line(str(result.step + 1)),
        line(result.title),
        line(result.profile),
        line(_verdict(result), f" ({result.verdict.code})"),
        line(score),
        line(seconds(result.seconds_to_detect, "not detected")),
        line(seconds(result.seconds_to_recover, "not seen")),
        line(seconds(result.seconds, digits=0)),
    )


def _experiment_detail(result: ExperimentResult, out_dir: Path, plot_names: set[str]) -> Section:
    stem = Path(result.path).stem
    items: list[Line] = [
        line(
            "Experiment: ",
            result.experiment_title,
            " (",
            code(result.path),
            f") on profile {result.profile}",
        ),
        line("Verdict: ", _verdict(result), f": {_verdict_reason(result)}"),
        line("Alerts, in the order they first fired after the fault: ", alerts_in_order(result)),
        line(
            "Time to detect (first fault to first alert firing): ",
            strong(seconds(result.seconds_to_detect, "not detected")),
        ),
        line(
            f"Time to recover (last fault over to no request waiting and under 1 %{NBSP}5xx): ",
            strong(seconds(result.seconds_to_recover, "not seen")),
        ),
    ]
    if result.score:
        items.append(line("Resilience score: ", strong(f"{result.score.value}/100")))
    for deviation in result.verdict.details().splitlines()[1:]:
        items.append(line(bad("finding"), f": {redact_text(deviation)}"))
    reports = {p.suffix: p for p in result.report_files if p.stem == stem}
    if reports:
        links: list[Span | str] = ["Full report: "]
        for suffix, label in ((".html", "HTML"), (".md", "Markdown")):
            if suffix in reports:
                if len(links) > 1:
                    links.append(", ")
                links.append(link(label, relative(reports[suffix], out_dir)))
        items.append(line(*links))
    if result.journal_path:
        items.append(line("Journal: ", code(relative(result.journal_path, out_dir))))
    blocks: list[Block] = [BulletList(tuple(items))]
    for name in FIGURES:
        figure = figure_name(result, name)
        if figure in plot_names:
            blocks.append(Figure(figure, *_figure_words(name, result)))
    title = f"Step {result.step + 1}: {result.title} (profile {result.profile})"
    return Section(title, f"step-{result.step + 1}", tuple(blocks))


def _figure_words(name: str, result: ExperimentResult) -> tuple[str, str]:
    where = f"step {result.step + 1}, profile {result.profile}"
    if name == "database":
        return (
            f"PostgreSQL connections ({where})",
            "Client connections against max_connections, with the fault window shaded.",
        )
    return (
        f"Alerts ({where})",
        "When each alert was pending and firing, with the fault window shaded.",
    )


def _timeline(record: GameDayRecord) -> Section:
    events: list[tuple[datetime, int, str, Line]] = []
    for step_record in record.steps:
        step = step_record.step
        what = line(strong(f"{step.kind}: {step.title}"), f": {step_record.outcome}")
        events.append((step_record.started, 0, step.kind, what))
    for result in record.experiments:
        number = result.step + 1
        if result.fault_started:
            events.append(
                (result.fault_started, 1, "fault", line(f"step {number}: first fault injected"))
            )
        if result.detected_at and result.alerts_fired:
            first = result.alerts_fired[0].alert
            events.append(
                (
                    result.detected_at,
                    2,
                    "firing",
                    line(f"step {number}: first alert firing: ", strong(first)),
                )
            )
        if result.recovered_at:
            events.append(
                (
                    result.recovered_at,
                    3,
                    "recovered",
                    line(f"step {number}: ", good("service recovered")),
                )
            )
    if record.interrupted and record.ended:
        events.append(
            (
                record.ended,
                9,
                "interrupted",
                line(bad("game day interrupted"), f": {record.interrupted}"),
            )
        )
    elif record.ended:
        events.append((record.ended, 9, "end", line("game day ended")))
    events.sort(key=lambda event: (event[0], event[1]))
    rows = tuple(
        (line(clock(when)), line(_offset(record, when)), text) for when, _, _, text in events
    )
    table = Table(("time (UTC)", "T+", "what"), rows, tuple(kind for _, _, kind, _ in events))
    return Section("Timeline", "timeline", (table,))


def _offset(record: GameDayRecord, when: datetime) -> str:
    total = max(0, int(record.offset(when)))
    return f"{total // 60:02d}:{total % 60:02d}"


def _observations(record: GameDayRecord) -> Section:
    if not record.observations:
        return Section("Observations", "observations", (Paragraph(line("No question was asked.")),))
    blocks: list[Block] = [
        Paragraph(line("What participants typed, line by line, with the time it was entered."))
    ]
    asked: dict[tuple[int, str], list[tuple[Line, ...]]] = {}
    for observation in record.observations:
        text = redact_text(observation.text)
        shown = Span(text) if observation.source in TYPED else Span(text, "code")
        row = (line(clock(observation.time)), line(_offset(record, observation.time)), line(shown))
        asked.setdefault((observation.step, observation.question), []).append(row)
    for (step, question), rows in asked.items():
        blocks.append(Paragraph(line(f"Step {step + 1}: ", strong(question))))
        blocks.append(Table(("time (UTC)", "T+", "observation"), tuple(rows)))
    return Section("Observations", "observations", tuple(blocks))


def _briefings(record: GameDayRecord) -> Section:
    blocks: list[Block] = []
    for step_record in record.steps:
        step = step_record.step
        if step.kind not in ("briefing", "pause", "note", "recap"):
            continue
        blocks.append(Paragraph(line(strong(f"Step {step.number}, {step.kind}: {step.title}"))))
        blocks += [Paragraph(line(part)) for part in step.text.split("\n\n") if part.strip()]
    if not blocks:
        blocks.append(Paragraph(line("No briefing or note was given.")))
    return Section("What the room was told", "briefings", tuple(blocks))


def _score(record: GameDayRecord, score: Score) -> Section:
    runs = len(record.experiments)
    total = (
        f" ({score.points:g} of {score.max_points} points over {runs} experiment "
        f"run{'' if runs == 1 else 's'})"
    )
    blocks: list[Block] = [
        Paragraph(
            line(
                "Resilience score of the game day: ",
                *(_score_words(record, score)[:1]),
                total if runs else "",
            )
        )
    ]
    if score.parts:
        blocks.append(
            Table(
                ("part", "points", "max", "per run"),
                tuple(
                    (line(strong(p.name)), line(f"{p.points:g}"), line(str(p.max)), line(p.why))
                    for p in score.parts
                ),
            )
        )
    blocks += [
        Paragraph(line(strong("How it is computed. "), SCORE_COMBINATION)),
        Paragraph(
            line(
                "Each run's score is 100 x points earned / points possible, from its journal alone:"
            )
        ),
        BulletList(
            tuple(line(strong(name), f" (up to {most}): {what}") for name, most, what in DEFINITION)
        ),
    ]
    return Section("Resilience score", "score", tuple(blocks))
