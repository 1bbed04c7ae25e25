"""Run experiment files in-process with chaoslib and judge them from their journals.

`chaos run` exits 0 even when the baseline was not met or an action failed,
so the verdict is computed from the journal (hubchaos.verdict), never from
chaoslib's own status alone. It is computed once, with the facts and score
the report needs, as the run's `RunOutcome` (hubchaos.report.outcome), and handed on.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaoslib.exit import exit_signals
from chaoslib.experiment import run_experiment

from hubchaos.experiments import load_valid_experiment
from hubchaos.private.journal import write_journal
from hubchaos.report.outcome import RunOutcome
from hubchaos.traffic import transport_errors
from hubchaos.verdict import Verdict

__all__ = ["ExperimentRun", "export_stack_environment", "run_experiment_file"]

logger = logging.getLogger("hubchaos")

# Rollbacks run even when the run failed or was interrupted; chaoslib's
# default skips them exactly when they matter most.
SETTINGS: dict[str, Any] = {"runtime": {"rollbacks": {"strategy": "always"}}}


@dataclass
class ExperimentRun:
    path: str
    title: str
    journal_path: Path
    journal: dict[str, Any]  # as chaoslib wrote it (the file at journal_path)
    outcome: RunOutcome  # verdict, facts and score, from the redacted journal
    seconds: float

    @property
    def verdict(self) -> Verdict:
        return self.outcome.verdict


def run_experiment_file(
    path: str, out_dir: Path, event_handlers: list[Any] | None = None
) -> ExperimentRun:
    """Validate, run and judge one experiment; its journal goes to `out_dir`."""
    experiment = load_valid_experiment(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    journal_path = out_dir / f"{Path(path).stem}.journal.json"
    started = time.monotonic()
    errors_before = transport_errors.snapshot()
    with exit_signals(), _signals_stop_floods():
        journal: dict[str, Any] = run_experiment(
            experiment, settings=json.loads(json.dumps(SETTINGS)), event_handlers=event_handlers
        )
    seconds = time.monotonic() - started
    # requests of the run's own load that never got an answer (refused, reset, timed out)
    journal["hubchaos_transport_errors"] = transport_errors.since(errors_before)
    write_journal(journal_path, journal)  # 0600, passwords masked
    return ExperimentRun(
        path=path,
        title=str(experiment.get("title", Path(path).stem)),
        journal_path=journal_path,
        journal=journal,
        outcome=RunOutcome.of(journal),
        seconds=seconds,
    )


def export_stack_environment(variables: dict[str, str]) -> None:
    """Make the experiments' env-type configuration point at this stack."""
    os.environ.update(variables)


@contextmanager
def _signals_stop_floods() -> Iterator[None]:
    """While the run lasts, Ctrl-C and SIGTERM first tell background floods to stop.

    A background flood runs in one of chaoslib's worker threads, which never
    sees a signal, and chaoslib waits for background activities after one;
    without this a Ctrl-C would wait for every flood to reach its deadline.
    Installed here, where the run starts (inside chaoslib's own SIGTERM
    handler, which it chains in front of), never as a side effect of an import.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal handlers
        return
    from hubchaos.actions._flood_registry import install_stop_hook

    previous_sigint = signal.getsignal(signal.SIGINT)
    for signum in (signal.SIGINT, signal.SIGTERM):
        install_stop_hook(signum)
    try:
        yield
    finally:  # exit_signals() puts SIGTERM back; SIGINT is ours to put back
        if previous_sigint is not None:
            signal.signal(signal.SIGINT, previous_sigint)
