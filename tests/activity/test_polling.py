"""poll_until: stops when the condition holds, gives up at the deadline, tolerates
only the errors it is told to."""

import time

import pytest

from hubchaos.activity.polling import poll_until


def test_returns_as_soon_as_the_condition_holds() -> None:
    values = iter([3, 2, 1, 0, 0, 0])
    polled = poll_until(lambda _left: next(values), 5.0, 0.01, done=lambda n: n == 0)
    assert polled.held and polled.value == 0
    assert polled.looks == 4 and polled.answers == 4
    assert polled.seconds < 1.0


def test_gives_up_without_overrunning_the_deadline() -> None:
    lefts: list[float] = []

    def look(left: float) -> bool:
        lefts.append(left)
        return False

    started = time.monotonic()
    polled = poll_until(look, 0.3, 0.05)
    elapsed = time.monotonic() - started
    assert not polled.held and polled.value is False
    assert 0.2 <= elapsed <= 0.3 + 0.2  # the last look starts before the deadline
    assert lefts[0] == pytest.approx(0.3, abs=0.05) and lefts == sorted(lefts, reverse=True)
    assert polled.looks == len(lefts) >= 4


def test_a_tolerated_error_is_not_yet_and_the_last_one_is_kept() -> None:
    calls = iter([ValueError("down"), 7, ValueError("down again")])

    def look(_left: float) -> int:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    polled = poll_until(look, 0.25, 0.1, done=lambda n: n > 10, retry_on=(ValueError,))
    assert not polled.held
    assert polled.value == 7 and polled.answers == 1 and polled.looks == 3
    assert str(polled.error) == "down again"


def test_other_errors_propagate() -> None:
    def look(_left: float) -> bool:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        poll_until(look, 1.0, 0.01, retry_on=(ValueError,))


def test_wait_first_sleeps_before_the_first_look() -> None:
    started = time.monotonic()
    polled = poll_until(lambda _left: time.monotonic() - started, 1.0, 0.1, wait_first=True)
    assert polled.held and polled.value is not None and polled.value >= 0.1
