"""One poll-until-deadline loop for probes and controls that wait for a condition.

`poll_until` looks, and if the condition does not hold yet, sleeps and looks
again, giving up when the next look would start past the deadline (so it
never overruns its bound by more than one look). Each look is told how many
seconds are left, to bound its own network timeout by them.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Polled", "poll_until"]

T = TypeVar("T")


@dataclass(frozen=True)
class Polled(Generic[T]):
    """How a wait ended."""

    held: bool  # the condition held before the deadline
    value: T | None  # what the last look that answered returned (None: none answered)
    error: BaseException | None  # the last look's tolerated error, when it failed
    seconds: float  # from the first look to the end of the last one
    looks: int
    answers: int  # looks that returned rather than raised a tolerated error


def poll_until(
    look: Callable[[float], T],
    timeout_s: float,
    interval_s: float,
    done: Callable[[T], bool] = bool,
    retry_on: tuple[type[BaseException], ...] = (),
    wait_first: bool = False,
) -> Polled[T]:
    """Call `look(seconds_left)` every `interval_s` until `done(value)` or `timeout_s`.

    Looks at least once (after one interval when `wait_first`). An exception
    in `retry_on` counts as "not yet"; any other propagates.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    value: T | None = None
    error: BaseException | None = None
    looks = answers = 0
    if wait_first:
        time.sleep(max(0.0, min(interval_s, deadline - time.monotonic())))
    while True:
        looks += 1
        try:
            answer = look(max(0.0, deadline - time.monotonic()))
        except retry_on as exc:
            error = exc
        else:
            value, error, answers = answer, None, answers + 1
            if done(answer):
                return Polled(True, value, None, time.monotonic() - started, looks, answers)
        if time.monotonic() + interval_s > deadline:
            return Polled(False, value, error, time.monotonic() - started, looks, answers)
        time.sleep(interval_s)
