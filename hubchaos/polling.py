"""The one poll-until-deadline loop: look, and until the condition holds, pause and look again.

Probes, controls, the game day and the stack drivers all wait this way. Each
look is told how many seconds are left, so a probe can bound its own network
timeout by them; an exception in `retry_on` counts as "not yet".

How a wait ends at the deadline is the caller's choice:

- by default the loop gives up when the next pause would end past the
  deadline, so a wait never overruns its bound by more than one look (what
  a probe's `timeout_seconds` promises);
- with `look_at_deadline` the last pause is cut short and one more look is
  taken at the deadline itself, so a slow machine gets that last chance (what
  the stack wants before it calls a part unhealthy).

Pauses start at `interval_s` and grow by `growth` up to `max_interval_s`;
`on_wait` sees every answer that was not done, before the pause after it
(the stack's progress lines).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

__all__ = ["Polled", "poll_until"]

T = TypeVar("T")


@dataclass(frozen=True)
class Polled(Generic[T]):
    """How a wait ended."""

    held: bool  # the condition held before the deadline
    value: T | None  # what the last look that answered returned (None: none answered)
    error: BaseException | None  # the last look's tolerated error, when it failed
    seconds: float  # from the start of the wait to the end of the last look
    looks: int
    answers: int  # looks that returned rather than raised a tolerated error

    def last(self) -> T:
        """The last answer; the last tolerated error if no look ever answered."""
        if self.answers == 0:
            assert self.error is not None  # every look raised a tolerated error
            raise self.error
        return cast(T, self.value)  # an answer was given, so this is it (None only if T allows)


def poll_until(
    look: Callable[[float], T],
    timeout_s: float,
    interval_s: float,
    *,
    done: Callable[[T], bool] = bool,
    retry_on: tuple[type[BaseException], ...] = (),
    wait_first: bool = False,
    look_at_deadline: bool = False,
    growth: float = 1.0,
    max_interval_s: float | None = None,
    on_wait: Callable[[T], None] | None = None,
) -> Polled[T]:
    """Call `look(seconds_left)` until `done(answer)` or `timeout_s` has passed.

    Looks at least once (after one pause when `wait_first`); any exception
    not in `retry_on` propagates. See the module's docstring for the
    deadline, the growing pauses and `on_wait`.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    pause = interval_s
    value: T | None = None
    error: BaseException | None = None
    looks = answers = 0

    def ended(held: bool) -> Polled[T]:
        return Polled(held, value, error, time.monotonic() - started, looks, answers)

    if wait_first:
        _pause(pause, deadline)
    while True:
        looks += 1
        try:
            answer = look(max(0.0, deadline - time.monotonic()))
        except retry_on as exc:
            error = exc
        else:
            value, error, answers = answer, None, answers + 1
            if done(answer):
                return ended(True)
        now = time.monotonic()
        if now >= deadline if look_at_deadline else now + pause > deadline:
            return ended(False)
        if on_wait is not None and error is None:
            on_wait(answer)
        _pause(pause, deadline)
        pause *= growth
        if max_interval_s is not None:
            pause = min(pause, max_interval_s)


def _pause(seconds: float, deadline: float) -> None:
    """Sleep `seconds`, but never past the deadline."""
    time.sleep(max(0.0, min(seconds, deadline - time.monotonic())))
