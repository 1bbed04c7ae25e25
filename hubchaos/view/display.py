"""What `hubchaos run` shows while an experiment runs: the live view or plain lines.

The live view needs a terminal; CI logs get plain lines plus a status line
with the stack's numbers every few seconds. `--live/--plain` overrides the
guess.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from hubchaos.diagnosis.live import LiveDiagnosis
from hubchaos.view.progress import ProgressLines, StatusTicker

__all__ = ["run_display", "show_library_debug", "wants_live_view"]


def wants_live_view(choice: bool | None, stream: TextIO | None = None) -> bool:
    """The user's --live/--plain if given, else live only on a real, capable terminal."""
    if choice is not None:
        return choice
    stream = stream or sys.stderr
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    return is_tty and os.environ.get("TERM", "") not in ("", "dumb")


@contextmanager
def run_display(
    live: bool, prometheus_url: str, title: str = "", position: str = ""
) -> Iterator[list[Any]]:
    """Shows one experiment's run; yields the chaoslib event handlers to run it with."""
    if live:
        from hubchaos.view.live import LiveView  # rich is only imported when it draws

        with LiveView(prometheus_url, title=title, position=position) as view:
            yield view.handlers
        return
    lines = ProgressLines()
    ticker = StatusTicker(lines, prometheus_url)
    ticker.start()
    try:
        yield [lines, LiveDiagnosis(prometheus_url, announce=lines.line)]
    finally:
        ticker.stop()


def show_library_debug(verbose: bool) -> None:
    """Third-party DEBUG lines in the output only when asked for (`--verbose`).

    chaostoolkit-toxiproxy logs through logzero, whose default logger prints
    DEBUG to stderr (`[D ... toxiproxyapi:103] Calculated toxiproxy URL ...`).
    logzero configures that logger when first imported, so it is imported
    here, before any experiment module, and its level set once for the run.
    """
    try:
        import logzero
    except ImportError:  # no activity library that logs through logzero
        return
    logzero.loglevel(logging.DEBUG if verbose else logging.INFO)
