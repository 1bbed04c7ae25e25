"""Plain progress lines for `hubchaos run`: one line per phase and per activity.

Plain lines suit CI logs; the elapsed time at the start of each line lets a
reader line them up with the timeline in the report. `StatusTicker` adds the
stack's numbers every few seconds, so a CI log shows what the live view
would have shown.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from chaoslib.run import RunEventHandler

from hubchaos.controls.timeline import Sampler
from hubchaos.traffic import transport_errors
from hubchaos.view.readings import Readings

__all__ = ["STATUS_INTERVAL_S", "ProgressLines", "StatusTicker"]

STATUS_INTERVAL_S = 5.0


class ProgressLines(RunEventHandler):
    """Writes to `stream`, or to whatever sys.stderr is at the time of each line.

    Looking sys.stderr up late lets the live view capture these lines and
    print them above its panel.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._t0 = time.monotonic()
        self._lock = threading.Lock()  # lines come from chaoslib's threads and the ticker

    def line(self, text: str) -> None:
        elapsed = time.monotonic() - self._t0
        with self._lock:
            stream = self._stream or sys.stderr
            stream.write(f"  [{elapsed:6.1f}s] {text}\n")
            stream.flush()

    def started(self, experiment: Any, journal: Any) -> None:
        self._t0 = time.monotonic()
        self.line(f"experiment: {experiment.get('title', '?')}")

    def start_hypothesis_before(self, experiment: Any) -> None:
        self.line("steady state (before)")

    def start_method(self, experiment: Any) -> None:
        self.line("method")

    def start_hypothesis_after(self, experiment: Any) -> None:
        self.line("steady state (after)")

    def start_rollbacks(self, experiment: Any) -> None:
        self.line("rollbacks")

    def start_activity(self, activity: Any) -> None:
        background = " (background)" if activity.get("background") else ""
        self.line(f"  {activity.get('type', 'activity')} {activity.get('name')}{background}")

    def activity_completed(self, activity: Any, run: Any) -> None:
        status = (run.get("status") or "interrupted") if isinstance(run, dict) else "?"
        if status != "succeeded":
            self.line(f"  {activity.get('name')}: {status}")

    def signal_exit(self) -> None:
        self.line("interrupted: rolling back")


def transport_error_line(new: dict[str, int]) -> str:
    """What the load met since the last line, which the app's metrics cannot show."""
    kinds = ", ".join(f"{kind} {n}" for kind, n in new.items())
    return f"load: {sum(new.values())} transport errors since the last line ({kinds})"


class StatusTicker:
    """Every `interval` seconds, one `stack: ...` line with the numbers from Prometheus.

    It samples on its own thread, so a slow or absent Prometheus delays only
    these lines, never the run. While Prometheus does not answer it says so
    once instead of printing empty lines.
    """

    def __init__(
        self, lines: ProgressLines, prometheus_url: str, interval: float = STATUS_INTERVAL_S
    ) -> None:
        self.lines = lines
        self.prometheus_url = prometheus_url
        self.interval = interval
        self._sampler = Sampler(prometheus_url)  # used for one-off samples, not started
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hubchaos-status", daemon=True)
        self._errors_seen = transport_errors.snapshot()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._sampler.stop()

    def _loop(self) -> None:
        said_unavailable = False
        while not self._stop.wait(self.interval):
            self._say_transport_errors()
            readings = Readings.from_sample(self._sampler.sample())
            if self._stop.is_set():
                return  # the run ended while we sampled: its last line is already out
            if readings.available:
                self.lines.line(f"stack: {readings.status_line()}")
                said_unavailable = False
            elif not said_unavailable:
                self.lines.line(
                    f"stack: no numbers, Prometheus at {self.prometheus_url} not answering"
                )
                said_unavailable = True

    def _say_transport_errors(self) -> None:
        now = transport_errors.snapshot()
        new = now.minus(self._errors_seen)
        self._errors_seen = now
        if new:
            self.lines.line(transport_error_line(new))
