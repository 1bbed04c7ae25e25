"""Polling until a condition holds or a deadline passes: the stack's one wait loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["poll_until"]

T = TypeVar("T")


def poll_until(
    attempt: Callable[[], T],
    done: Callable[[T], bool],
    deadline_s: float,
    interval_s: float = 0.05,
    max_interval_s: float | None = None,
    growth: float = 1.0,
    on_wait: Callable[[T], None] | None = None,
) -> tuple[T, bool]:
    """Call `attempt` until `done(result)` or `deadline_s` passes; (last result, done).

    `attempt` runs at least once, and once more at the deadline, so a slow
    machine gets a last look. The pause starts at `interval_s` and grows by
    `growth` up to `max_interval_s`; `on_wait` sees every result that was not done.
    """
    deadline = time.monotonic() + deadline_s
    delay = interval_s
    while True:
        result = attempt()
        if done(result):
            return result, True
        if time.monotonic() >= deadline:
            return result, False
        if on_wait is not None:
            on_wait(result)
        time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
        delay *= growth
        if max_interval_s is not None:
            delay = min(delay, max_interval_s)
