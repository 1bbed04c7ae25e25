"""The live view of `hubchaos run` on a terminal: where the run is and what the stack is doing.

A panel at the bottom of the terminal, redrawn twice a second: phase, the
activity running now (and background ones), elapsed time, the app pools'
used/max and waiting requests, PostgreSQL connections against
max_connections, p95 latency, error rate and the alerts pending or firing.
The progress lines scroll above it, as in plain mode.

Its numbers come from its own `Sampler` (the timeline control's, polling
Prometheus once a second), so the view works with or without the timeline
control in the experiment. Nothing here may break the run it shows: an
unreachable Prometheus leaves "-" in the panel, and a rendering error shows
as one line instead of stopping the refresh.
"""

from __future__ import annotations

import contextlib
import os
import sys
import termios
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from hubchaos.controls.timeline import Sampler
from hubchaos.diagnosis.causes import Finding
from hubchaos.diagnosis.live import LiveDiagnosis
from hubchaos.diagnosis.panel import diagnosis_text
from hubchaos.traffic import transport_errors
from hubchaos.traffic.transport_errors import TransportErrorCount
from hubchaos.view.load_errors import transport_error_text
from hubchaos.view.progress import ProgressLines
from hubchaos.view.readings import Readings, fraction, number, percent, rate, seconds
from hubchaos.view.run_watch import RunWatch, WatchSnapshot

__all__ = ["LiveView", "render_panel"]

REFRESH_PER_SECOND = 2
BAR_WIDTH = 24
LABEL_WIDTH = 12


class LiveView:
    """Use as a context manager around one experiment; pass `handlers` to the runner."""

    def __init__(
        self,
        prometheus_url: str,
        title: str = "",
        position: str = "",
        console: Console | None = None,
    ) -> None:
        self.prometheus_url = prometheus_url
        self.position = position
        self.watch = RunWatch(title)
        self.lines = ProgressLines()  # sys.stderr at write time: Live prints them above the panel
        self.sampler = Sampler(prometheus_url)
        self.diagnosis = LiveDiagnosis(prometheus_url, sampler=self.sampler)
        self._echo: list[Any] | None = None
        self.console = console or Console(stderr=True, force_terminal=True)
        self._live = Live(
            get_renderable=self.render,
            console=self.console,
            refresh_per_second=REFRESH_PER_SECOND,
            transient=False,  # the last panel stays: the state the run ended in
            redirect_stdout=True,
            redirect_stderr=True,
        )

    @property
    def handlers(self) -> list[Any]:
        return [self.watch, self.lines, self.diagnosis]

    def __enter__(self) -> LiveView:
        self.sampler.start()
        try:
            self._echo = _hide_control_echo()
            self._live.start()
        except BaseException:
            _restore_echo(self._echo)
            self.sampler.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._live.stop()  # restores the cursor and the std streams, also on Ctrl-C
        finally:
            _restore_echo(self._echo)
            self.sampler.stop()

    def render(self) -> RenderableType:
        try:
            samples = self.sampler.samples
            sample = samples[-1] if samples else None
            return render_panel(
                self.watch.snapshot(),
                Readings.from_sample(sample),
                _age_seconds(sample),
                self.prometheus_url,
                self.position,
                client_errors=transport_errors.snapshot(),
                findings=self.diagnosis.findings(),
            )
        except Exception as exc:  # a refresh thread that dies would freeze the view
            return Text(f"live view: cannot draw the panel: {exc!r}")


def _hide_control_echo() -> list[Any] | None:
    """Stop the terminal from echoing "^C" into the panel, which would leave a torn copy behind.

    Returns the previous terminal attributes (None when stdin is no terminal,
    or when we run in the background, where changing them would stop us with SIGTTOU).
    """
    try:
        fd = sys.stdin.fileno()
        if not os.isatty(fd) or os.tcgetpgrp(fd) != os.getpgrp():
            return None
        previous = termios.tcgetattr(fd)
        quiet = list(previous)
        quiet[3] &= ~termios.ECHOCTL  # lflag
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
        return previous
    except (OSError, ValueError, termios.error):
        return None


def _restore_echo(previous: list[Any] | None) -> None:
    if previous is None:
        return
    with contextlib.suppress(OSError, ValueError, termios.error):
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSANOW, previous)


def _age_seconds(sample: dict[str, Any] | None) -> float | None:
    if not sample or "time" not in sample:
        return None
    try:
        taken = datetime.fromisoformat(str(sample["time"]))
    except ValueError:
        return None
    return max(0.0, (datetime.now(UTC) - taken).total_seconds())


def render_panel(
    watch: WatchSnapshot,
    readings: Readings,
    age_seconds: float | None,
    prometheus_url: str,
    position: str = "",
    client_errors: TransportErrorCount | None = None,
    findings: Sequence[Finding] = (),
) -> Panel:
    """The whole panel; a pure function of what the run and the stack look like now."""
    now = time.monotonic()
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", width=LABEL_WIDTH, no_wrap=True)
    grid.add_column()

    grid.add_row(
        "phase", Text.assemble((watch.phase, "bold cyan"), "   elapsed ", _clock(watch.elapsed))
    )
    foreground = [r for r in watch.running if not r.background]
    background = [r for r in watch.running if r.background]
    grid.add_row("now", _activities(foreground, now) if foreground else Text("-", style="dim"))
    if background:
        grid.add_row("background", _activities(background, now))
    if watch.last:
        style = "red" if not watch.last.endswith(": succeeded") else "green"
        grid.add_row("last", Text(watch.last, style=style))
    grid.add_row("", "")
    grid.add_row(
        "app pools",
        _gauge(
            readings.pool_used,
            readings.pool_max,
            f"{fraction(readings.pool_used, readings.pool_max)} used",
        ),
    )
    grid.add_row("waiting", _waiting(readings.pool_pending))
    grid.add_row(
        "database",
        _gauge(
            readings.db_connections,
            readings.db_max_connections,
            f"{fraction(readings.db_connections, readings.db_max_connections)} connections "
            "(max_connections)",
        ),
    )
    grid.add_row(
        "latency p95",
        Text.assemble(
            (seconds(readings.p95_latency_seconds), "bold"),
            "   errors ",
            (percent(readings.error_rate), _error_style(readings.error_rate)),
            f"   {rate(readings.requests_per_second)} req/s",
        ),
    )
    if client_errors is not None:  # what the app's metrics cannot see: requests that never got in
        grid.add_row("load errors", transport_error_text(client_errors))
    grid.add_row("alerts", _alerts(readings))
    grid.add_row("likely cause", diagnosis_text(findings))

    heading = f"hubchaos run {position} · " if position else "hubchaos run · "
    title = Text.assemble((heading, "bold"), watch.title or "")
    return Panel(
        grid,
        title=title,
        title_align="left",
        subtitle=_footer(readings, age_seconds, prometheus_url, watch.finished),
        subtitle_align="right",
        border_style="green" if watch.finished else "blue",
    )


def _clock(elapsed: float) -> Text:
    minutes, secs = divmod(int(elapsed), 60)
    return Text(f"{minutes:02d}:{secs:02d}", style="bold")


def _activities(entries: list[Any], now: float) -> Text:
    text = Text()
    for index, entry in enumerate(entries):
        if index:
            text.append(", ")
        text.append(f"{entry.kind} ", style="dim")
        text.append(entry.name, style="bold")
        text.append(f" {now - entry.started:.0f}s", style="dim")
    return text


def _ratio_style(value: float | None, limit: float | None) -> str:
    if value is None or not limit:
        return "dim"
    ratio = value / limit
    return "green" if ratio < 0.7 else "yellow" if ratio < 0.9 else "bold red"


def _gauge(value: float | None, limit: float | None, label: str) -> RenderableType:
    row = Table.grid(padding=(0, 1))
    row.add_column(width=BAR_WIDTH, no_wrap=True)
    row.add_column()
    style = _ratio_style(value, limit)
    if value is None or not limit:
        bar: RenderableType = Text("·" * BAR_WIDTH, style="dim")
    else:
        bar = ProgressBar(
            total=limit,
            completed=min(value, limit),
            width=BAR_WIDTH,
            complete_style=style,
            finished_style=style,
        )
    row.add_row(bar, Text(label, style=style if value is not None else "dim"))
    return row


def _waiting(pending: float | None) -> Text:
    if pending is None:
        return Text("-", style="dim")
    style = "bold red" if pending >= 1 else "green"
    return Text(f"{number(pending)} requests waiting for a connection", style=style)


def _error_style(rate: float | None) -> str:
    if rate is None:
        return "dim"
    return "green" if rate < 0.01 else "yellow" if rate < 0.05 else "bold red"


def _alerts(readings: Readings) -> RenderableType:
    if not readings.firing and not readings.pending:
        return Text("none pending or firing", style="dim" if not readings.available else "green")
    lines = []
    if readings.firing:
        lines.append(Text.assemble(("FIRING ", "bold red"), ", ".join(readings.firing)))
    if readings.pending:
        lines.append(Text.assemble(("pending ", "yellow"), ", ".join(readings.pending)))
    return Group(*lines)


def _footer(
    readings: Readings, age_seconds: float | None, prometheus_url: str, finished: bool
) -> Text:
    if age_seconds is None:
        source = Text(f"waiting for Prometheus at {prometheus_url}", style="dim")
    elif not readings.available:
        source = Text(f"Prometheus at {prometheus_url} not answering", style="yellow")
    else:
        source = Text(f"metrics {age_seconds:.1f}s old", style="dim")
    if finished:
        return source
    return Text.assemble(source, (" · Ctrl-C stops and rolls back", "dim"))
