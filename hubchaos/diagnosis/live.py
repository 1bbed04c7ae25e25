"""The diagnosis while the run is on: for the live panel, and as lines in plain output.

A chaoslib event handler: it notes each method action as it starts (the
faults and floods injected) and when the rollbacks begin, and diagnoses the
samples a `Sampler` has taken so far. The live panel asks for `findings()`
at every redraw; in plain mode a thread announces the top finding each time
it changes ("diagnosis: likely app-pool-misconfigured ..."), so CI logs show
when the cause became known. Nothing here may break the run it watches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chaoslib.run import RunEventHandler

from hubchaos.controls.timeline import Sampler
from hubchaos.diagnosis.causes import Finding
from hubchaos.diagnosis.diagnose import diagnose
from hubchaos.diagnosis.evidence import Evidence, Injection, injection_of

__all__ = ["LiveDiagnosis", "finding_line"]

ANNOUNCE_INTERVAL_S = 1.0


def finding_line(finding: Finding) -> str:
    return f"likely {finding.cause} ({finding.confidence:.0%}): {finding.summary}"


class LiveDiagnosis(RunEventHandler):
    """Diagnoses a running experiment from `sampler`'s samples and the run's events.

    Without a sampler it runs its own (started with the experiment). With
    `announce`, a thread reports every change of the top finding.
    """

    def __init__(
        self,
        prometheus_url: str,
        sampler: Sampler | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self._own_sampler = sampler is None
        self.sampler = sampler or Sampler(prometheus_url)
        self.announce = announce
        self._lock = threading.Lock()
        self._in_method = False
        self._injections: list[Injection] = []
        self._rollbacks: datetime | None = None
        self._said = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- the diagnosis

    def findings(self) -> list[Finding]:
        with self._lock:
            evidence = Evidence(list(self.sampler.samples), list(self._injections), self._rollbacks)
        return diagnose(evidence)

    def _announce_changes(self) -> None:
        while not self._stop.wait(ANNOUNCE_INTERVAL_S):
            self.say_if_changed()

    def say_if_changed(self, final: bool = False) -> None:
        """Announce a new top finding; `none` only as the last word (early it means "not yet")."""
        if self.announce is None:
            return
        try:
            findings = self.findings()
        except Exception as exc:  # the run matters more than its commentary
            findings, line = [], f"diagnosis unavailable: {exc!r}"
        else:
            line = finding_line(findings[0]) if findings else ""
        top = findings[0].cause if findings else line
        if top == "none" and not final:
            return
        if line and top != self._said:
            self._said = top
            self.announce(f"diagnosis: {line}")

    # ---------------------------------------------------------- chaoslib events

    def started(self, experiment: Any, journal: Any) -> None:
        if self._own_sampler:
            self.sampler.start()
        if self.announce is not None:
            self._thread = threading.Thread(
                target=self._announce_changes, name="hubchaos-diagnosis", daemon=True
            )
            self._thread.start()

    def start_method(self, experiment: Any) -> None:
        self._in_method = True

    def start_hypothesis_after(self, experiment: Any) -> None:
        self._in_method = False

    def start_rollbacks(self, experiment: Any) -> None:
        with self._lock:
            self._in_method = False
            self._rollbacks = self._rollbacks or datetime.now(UTC)

    def start_activity(self, activity: Any) -> None:
        if self._in_method and isinstance(activity, dict) and activity.get("type") == "action":
            with self._lock:
                self._injections.append(injection_of(activity, datetime.now(UTC)))

    def finish(self, journal: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.say_if_changed(final=True)  # the last word, once every sample is in
        if self._own_sampler:
            self.sampler.stop()
