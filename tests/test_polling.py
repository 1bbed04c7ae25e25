"""poll_until: stops when the condition holds, pauses that grow, gives up at the deadline
(with or without a last look there), tolerates only the errors it is told to."""

import time

import pytest

from hubchaos.polling import poll_until


class Looks:
    """A look that answers from a list (an exception in it is raised) and notes each call."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.lefts: list[float] = []
        self.at: list[float] = []

    def __call__(self, left: float) -> object:
        self.lefts.append(left)
        self.at.append(time.monotonic())
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_done_on_the_first_look_returns_without_a_pause() -> None:
    look = Looks(True)
    started = time.monotonic()
    polled = poll_until(look, 5.0, 1.0)
    assert polled.held and polled.value is True and polled.last() is True
    assert polled.looks == polled.answers == 1
    assert time.monotonic() - started < 0.5  # no 1 s pause was taken
    assert look.lefts[0] == pytest.approx(5.0, abs=0.1)


def test_done_after_pauses_that_grow_up_to_their_ceiling() -> None:
    look = Looks(5, 4, 3, 2, 1, 0)
    seen: list[object] = []
    polled = poll_until(
        look, 10.0, 0.05, done=lambda n: n == 0, growth=2.0, max_interval_s=0.2, on_wait=seen.append
    )
    assert polled.held and polled.value == 0 and polled.looks == 6
    assert seen == [5, 4, 3, 2, 1]  # every answer that was not done, never the last one
    gaps = [later - earlier for earlier, later in zip(look.at, look.at[1:], strict=False)]
    # 0.05, 0.1, 0.2, then the ceiling 0.2, 0.2; a loaded machine only sleeps longer
    for gap, planned in zip(gaps, [0.05, 0.1, 0.2, 0.2, 0.2], strict=True):
        assert planned * 0.95 <= gap < planned + 0.5
    assert gaps[2] > gaps[0] * 2.5


def test_look_at_deadline_takes_a_last_look_exactly_at_the_deadline() -> None:
    look = Looks(False)
    started = time.monotonic()
    polled = poll_until(look, 0.5, 0.2, look_at_deadline=True)
    elapsed = time.monotonic() - started
    assert not polled.held and polled.value is False
    assert polled.looks == 4  # at 0, 0.2, 0.4 and, the last pause cut to 0.1, at 0.5
    assert look.at[-1] - started == pytest.approx(0.5, abs=0.05)
    assert look.lefts[-1] == pytest.approx(0.0, abs=0.01)
    assert 0.5 <= elapsed < 1.0


def test_by_default_the_wait_gives_up_when_a_whole_pause_no_longer_fits() -> None:
    look = Looks(False)
    started = time.monotonic()
    polled = poll_until(look, 0.5, 0.2)
    elapsed = time.monotonic() - started
    assert not polled.held
    assert polled.looks == 3  # at 0, 0.2 and 0.4: a look at 0.6 would overrun the deadline
    assert look.lefts[-1] == pytest.approx(0.1, abs=0.05)
    assert 0.4 <= elapsed < 0.5  # never past the deadline


def test_seconds_left_shrink_from_the_whole_timeout_towards_zero() -> None:
    look = Looks(False)
    poll_until(look, 0.4, 0.05, look_at_deadline=True)
    assert look.lefts[0] == pytest.approx(0.4, abs=0.05)
    assert look.lefts == sorted(look.lefts, reverse=True)
    assert len(set(look.lefts)) == len(look.lefts)  # strictly shrinking
    assert look.lefts[-1] == pytest.approx(0.0, abs=0.01)


def test_a_tolerated_error_is_not_yet_until_the_deadline_and_the_last_one_is_kept() -> None:
    look = Looks(ValueError("down"), 7, ValueError("down again"))
    seen: list[object] = []
    polled = poll_until(
        look, 0.25, 0.1, done=lambda n: n > 10, retry_on=(ValueError,), on_wait=seen.append
    )
    assert not polled.held
    assert polled.value == 7 and polled.answers == 1 and polled.looks == 3
    assert str(polled.error) == "down again"
    assert seen == [7]  # a look that raised has no answer to show


def test_when_no_look_ever_answered_last_raises_the_last_tolerated_error() -> None:
    polled = poll_until(Looks(ConnectionError("refused")), 0.1, 0.02, retry_on=(OSError,))
    assert not polled.held and polled.answers == 0 and polled.value is None
    with pytest.raises(ConnectionError, match="refused"):
        polled.last()


def test_a_tolerated_error_then_an_answer_that_holds() -> None:
    look = Looks(TimeoutError("slow"), TimeoutError("slow"), 3)
    polled = poll_until(look, 5.0, 0.01, done=lambda n: n == 3, retry_on=(TimeoutError,))
    assert polled.held and polled.value == 3 and polled.error is None
    assert polled.looks == 3 and polled.answers == 1


def test_other_errors_propagate() -> None:
    with pytest.raises(KeyError):
        poll_until(Looks(KeyError("bug")), 1.0, 0.01, retry_on=(ValueError,))


def test_wait_first_pauses_before_the_first_look() -> None:
    started = time.monotonic()
    polled = poll_until(lambda _left: time.monotonic() - started, 1.0, 0.1, wait_first=True)
    assert polled.held and polled.value is not None and polled.value >= 0.1
    assert polled.looks == 1


def test_wait_first_never_pauses_past_the_deadline() -> None:
    look = Looks(True)
    started = time.monotonic()
    polled = poll_until(look, 0.05, 5.0, wait_first=True)
    assert polled.held and time.monotonic() - started < 1.0
    assert look.lefts == [pytest.approx(0.0, abs=0.01)]
