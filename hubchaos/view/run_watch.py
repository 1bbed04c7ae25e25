"""Where a run is: its phase and the activities running now, kept from chaoslib's run events.

chaoslib calls these handlers from the main thread and, for background
activities, from its pool threads; the live view reads a snapshot from its
refresh thread. A lock keeps the three consistent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from chaoslib.run import RunEventHandler

__all__ = ["RunWatch", "Running", "WatchSnapshot"]


@dataclass(frozen=True)
class Running:
    name: str
    kind: str  # action | probe
    background: bool
    started: float  # time.monotonic()


@dataclass(frozen=True)
class WatchSnapshot:
    title: str
    phase: str
    elapsed: float
    running: list[Running] = field(default_factory=list)
    last: str = ""  # the most recent activity that ended, with its status
    succeeded: int = 0
    failed: int = 0
    finished: bool = False


class RunWatch(RunEventHandler):
    def __init__(self, title: str = "") -> None:
        self._lock = threading.Lock()
        self._title = title
        self._phase = "starting"
        self._t0 = time.monotonic()
        self._ended: float | None = None
        self._running: list[Running] = []
        self._last = ""
        self._succeeded = 0
        self._failed = 0

    def snapshot(self) -> WatchSnapshot:
        with self._lock:
            now = self._ended if self._ended is not None else time.monotonic()
            return WatchSnapshot(
                title=self._title,
                phase=self._phase,
                elapsed=now - self._t0,
                running=list(self._running),
                last=self._last,
                succeeded=self._succeeded,
                failed=self._failed,
                finished=self._ended is not None,
            )

    def _set_phase(self, phase: str) -> None:
        with self._lock:
            self._phase = phase

    # ------------------------------------------------------------ chaoslib events

    def started(self, experiment: Any, journal: Any) -> None:
        with self._lock:
            self._title = str(experiment.get("title") or self._title)
            self._t0 = time.monotonic()

    def start_hypothesis_before(self, experiment: Any) -> None:
        self._set_phase("steady state (before)")

    def start_method(self, experiment: Any) -> None:
        self._set_phase("method")

    def start_hypothesis_after(self, experiment: Any) -> None:
        self._set_phase("steady state (after)")

    def start_rollbacks(self, experiment: Any) -> None:
        self._set_phase("rollbacks")

    def signal_exit(self) -> None:
        self._set_phase("interrupted: rolling back")

    def interrupted(self, experiment: Any, journal: Any) -> None:
        self._set_phase("interrupted: rolling back")

    def start_activity(self, activity: Any) -> None:
        entry = Running(
            name=str(activity.get("name", "?")),
            kind=str(activity.get("type", "activity")),
            background=bool(activity.get("background")),
            started=time.monotonic(),
        )
        with self._lock:
            self._running.append(entry)

    def activity_completed(self, activity: Any, run: Any) -> None:
        name = str(activity.get("name", "?"))
        status = str(run.get("status") or "interrupted") if isinstance(run, dict) else "?"
        with self._lock:
            for index, entry in enumerate(self._running):
                if entry.name == name:
                    del self._running[index]
                    break
            self._last = f"{activity.get('type', 'activity')} {name}: {status}"
            if status == "succeeded":
                self._succeeded += 1
            else:
                self._failed += 1

    def finish(self, journal: Any) -> None:
        status = journal.get("status", "?") if isinstance(journal, dict) else "?"
        if isinstance(journal, dict) and journal.get("deviated"):
            status = "deviated"
        with self._lock:
            self._phase = f"finished ({status})"
            self._running.clear()
            self._ended = time.monotonic()
