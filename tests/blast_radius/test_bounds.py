"""The limits checked at validation are the ones each activity enforces when it runs:
for every limit in the table, the real activity refuses the same value, before any traffic."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from hubchaos.blast_radius.bounds import BOUNDS, bound_problem

CASES = [
    (function, argument, value)
    for function, limits in BOUNDS.items()
    for argument in limits
    for value in ("nan", -1, 10**12)
]


def _activity(function: str) -> Any:
    module, _, name = function.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(("function", "argument", "value"), CASES)
def test_the_activity_refuses_what_validation_refuses(
    function: str, argument: str, value: Any
) -> None:
    problem = bound_problem(function, {argument: value})
    assert problem is not None and f"argument {argument} " in problem
    with pytest.raises(ActivityFailed, match=r"^argument \w+ must be"):
        _activity(function)(**{argument: value})


@pytest.mark.parametrize("function", list(BOUNDS))
def test_the_activity_defaults_are_within_the_limits(function: str) -> None:
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(_activity(function)).parameters.items()
        if name in BOUNDS[function]
    }
    assert set(defaults) == set(BOUNDS[function])  # every limit names a real argument
    assert bound_problem(function, defaults) is None
