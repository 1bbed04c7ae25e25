"""Plain progress lines for `hubchaos run`: one line per phase and per activity.

Plain lines suit CI logs; the elapsed time at the start of each line lets a
reader line them up with the timeline in the report.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from chaoslib.run import RunEventHandler

__all__ = ["ProgressLines"]


class ProgressLines(RunEventHandler):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._t0 = time.monotonic()

    def _line(self, text: str) -> None:
        elapsed = time.monotonic() - self._t0
        print(f"  [{elapsed:6.1f}s] {text}", file=self.stream, flush=True)

    def started(self, experiment: Any, journal: Any) -> None:
        self._t0 = time.monotonic()
        self._line(f"experiment: {experiment.get('title', '?')}")

    def start_hypothesis_before(self, experiment: Any) -> None:
        self._line("steady state (before)")

    def start_method(self, experiment: Any) -> None:
        self._line("method")

    def start_hypothesis_after(self, experiment: Any) -> None:
        self._line("steady state (after)")

    def start_rollbacks(self, experiment: Any) -> None:
        self._line("rollbacks")

    def start_activity(self, activity: Any) -> None:
        background = " (background)" if activity.get("background") else ""
        self._line(f"  {activity.get('type', 'activity')} {activity.get('name')}{background}")

    def activity_completed(self, activity: Any, run: Any) -> None:
        status = run.get("status") if isinstance(run, dict) else "?"
        if status != "succeeded":
            self._line(f"  {activity.get('name')}: {status}")

    def signal_exit(self) -> None:
        self._line("interrupted: rolling back")
