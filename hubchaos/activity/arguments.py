"""Experiment arguments, checked: numbers coerced and bounded, each refusal naming
the argument.

Arguments can arrive as strings (templated from configuration), so numbers
are coerced here rather than trusted.
"""

import math
from typing import Any

from chaoslib.exceptions import ActivityFailed

__all__ = [
    "MAX_ACTIVITY_SECONDS",
    "MAX_FLOOD_CONNECTIONS",
    "as_float",
    "as_int",
    "as_positive_float",
]

# Hard ceilings so a typo in an experiment cannot exhaust this machine.
MAX_FLOOD_CONNECTIONS = 10_000
MAX_ACTIVITY_SECONDS = 3_600.0


def as_int(name: str, value: Any, minimum: int = 0, maximum: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ActivityFailed(f"argument {name} must be an integer, got {value!r}") from None
    if number < minimum or (maximum is not None and number > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise ActivityFailed(f"argument {name} must be at least {minimum}{upper}, got {number}")
    return number


def as_float(
    name: str, value: Any, minimum: float = 0.0, maximum: float = MAX_ACTIVITY_SECONDS
) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ActivityFailed(f"argument {name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < minimum or number > maximum:
        raise ActivityFailed(
            f"argument {name} must be between {minimum:g} and {maximum:g}, got {value!r}"
        )
    return number


def as_positive_float(name: str, value: Any, maximum: float = MAX_ACTIVITY_SECONDS) -> float:
    number = as_float(name, value, 0.0, maximum)
    if number <= 0:
        raise ActivityFailed(f"argument {name} must be greater than 0, got {value!r}")
    return number
