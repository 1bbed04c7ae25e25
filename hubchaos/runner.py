"""Run experiment files in-process with chaoslib and judge them from their journals.

`chaos run` exits 0 even when the baseline was not met or an action failed,
so the verdict is computed from the journal (hubchaos.verdict), never from
chaoslib's own status alone.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaoslib.exit import exit_signals
from chaoslib.experiment import run_experiment

from hubchaos import transport_errors
from hubchaos.experiments import load_valid_experiment
from hubchaos.private.journal import write_journal
from hubchaos.verdict import Verdict, verdict_from_journal

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
    journal: dict[str, Any]
    verdict: Verdict
    seconds: float


def run_experiment_file(
    path: str, out_dir: Path, event_handlers: list[Any] | None = None
) -> ExperimentRun:
    """Validate, run and judge one experiment; its journal goes to `out_dir`."""
    experiment = load_valid_experiment(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    journal_path = out_dir / f"{Path(path).stem}.journal.json"
    started = time.monotonic()
    errors_before = transport_errors.snapshot()
    with exit_signals():
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
        verdict=verdict_from_journal(journal),
        seconds=seconds,
    )


def export_stack_environment(variables: dict[str, str]) -> None:
    """Make the experiments' env-type configuration point at this stack."""
    os.environ.update(variables)
