"""A per-second budget for access-log lines, so a request flood cannot spend the CPU on logging.

Within budget every request is logged; beyond it lines are counted instead, and
the next second starts with one line saying how many were left out.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic


class LogBudget:
    def __init__(self, lines_per_second: int, clock: Callable[[], float] = monotonic) -> None:
        self.lines_per_second = lines_per_second
        self.clock = clock
        self._second = 0
        self._used = 0
        self._dropped = 0

    def spend(self) -> tuple[bool, int]:
        """(may this line be logged, lines dropped in the previous busy second to report now)."""
        second = int(self.clock())
        report = 0
        if second != self._second:
            self._second, self._used = second, 0
            report, self._dropped = self._dropped, 0
        if self._used < self.lines_per_second:
            self._used += 1
            return True, report
        self._dropped += 1
        return False, report
