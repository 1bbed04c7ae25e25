"""Who owns a fault: a process, named so that a recycled pid is not mistaken for it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Owner", "process_start_ticks"]


def process_start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc), or None when it is gone.

    A zombie (dead, not yet reaped by its parent) counts as gone.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


@dataclass(frozen=True)
class Owner:
    pid: int
    start_ticks: int

    @classmethod
    def me(cls) -> Owner:
        pid = os.getpid()
        return cls(pid, process_start_ticks(pid) or 0)

    def alive(self) -> bool:
        ticks = process_start_ticks(self.pid)
        return ticks is not None and (self.start_ticks == 0 or ticks == self.start_ticks)
