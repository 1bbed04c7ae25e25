"""A process-wide log of the faults injected in this run.

Actions record when they inject a fault; probes that judge "within N seconds
of the fault" or "since the fault started" read it. Chaos Toolkit runs every
activity of one experiment in one process (background ones in threads), so a
module-level log is shared by all of them, under `chaos run` and `hubchaos run`
alike. The safety control clears it when an experiment starts.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

__all__ = ["Fault", "clear", "first_fault", "last_fault", "record_fault"]


@dataclass(frozen=True)
class Fault:
    kind: str  # e.g. "flood_db_connections", "toxic:latency", "proxy-disabled"
    target: str
    started: float  # time.time()


_faults: list[Fault] = []
_lock = threading.Lock()


def record_fault(kind: str, target: str) -> Fault:
    fault = Fault(kind, target, time.time())
    with _lock:
        _faults.append(fault)
    return fault


def first_fault() -> Fault | None:
    with _lock:
        return _faults[0] if _faults else None


def last_fault() -> Fault | None:
    with _lock:
        return _faults[-1] if _faults else None


def clear() -> None:
    with _lock:
        _faults.clear()
