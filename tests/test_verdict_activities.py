"""Tiny Python activities the verdict tests put into real experiments.

State lives in files so a `chaos run` subprocess and the test can share it.
Nothing here is a test; pytest collects this module and finds none.
"""

import time
from pathlib import Path
from typing import Any

__all__ = ["broken_probe", "read_number", "sleep_with_marker", "write_number"]

# What the control below reports, set by a test before the run.
SAFETY_REPORT: dict[str, Any] = {}

MAX_SLEEP_S = 30.0


def read_number(path: str) -> int:
    """The integer stored in `path`."""
    return int(Path(path).read_text())


def write_number(path: str, value: int) -> int:
    """Store `value` in `path` (the experiment's fault: the measured number changes)."""
    Path(path).write_text(str(value))
    return value


def broken_probe(message: str) -> int:
    """A probe whose target cannot be reached."""
    raise ConnectionError(message)


def sleep_with_marker(marker: str, seconds: float) -> float:
    """Write `marker`, then sleep (bounded), so a test knows when to interrupt."""
    Path(marker).write_text("sleeping")
    time.sleep(min(float(seconds), MAX_SLEEP_S))
    return float(seconds)


def after_experiment_control(context: Any, state: Any, **kwargs: Any) -> None:
    """Control hook: write a safety report into the journal as hubchaos's safety control does."""
    if SAFETY_REPORT and isinstance(state, dict):
        state["hubchaos_safety"] = dict(SAFETY_REPORT)
