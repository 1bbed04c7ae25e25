"""This run's faults in the order they were injected, for probes that judge
"within N seconds of the fault" or "since the fault started".

Chaos Toolkit runs every activity of one experiment in one process
(background ones in threads), so this in-process view of the ledger is shared
by all of them, under `chaos run` and `hubchaos run` alike. It keeps undone
faults too (a probe after the rollback still asks when the fault began); the
safety control clears it when an experiment starts.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

__all__ = ["Fault", "clear", "first_fault", "last_fault", "note"]


@dataclass(frozen=True)
class Fault:
    kind: str  # e.g. "flood:db_logins", "toxic:latency", "proxy-disabled"
    target: str
    started: float  # time.time()


_faults: list[Fault] = []
_lock = threading.Lock()


def note(kind: str, target: str, started: float | None = None) -> Fault:
    fault = Fault(kind, target, started if started is not None else time.time())
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
