"""Activities for the runner tests: they only sleep, so timing is the only variable."""

import time

__all__ = ["sleep_for"]


def sleep_for(seconds: float = 5.0) -> float:
    """Sleep `seconds`, then return them."""
    time.sleep(seconds)
    return seconds
