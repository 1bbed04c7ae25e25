"""The access-log budget: every line within it, a count of the rest one second later."""

from __future__ import annotations

from learninghub.log_budget import LogBudget


def test_budget_logs_within_the_limit_and_reports_the_rest_next_second() -> None:
    now = [100.2]
    budget = LogBudget(3, clock=lambda: now[0])
    assert [budget.spend() for _ in range(5)] == [
        (True, 0),
        (True, 0),
        (True, 0),
        (False, 0),
        (False, 0),
    ]
    now[0] = 101.0
    assert budget.spend() == (True, 2)
    assert budget.spend() == (True, 0)
    now[0] = 105.5
    assert budget.spend() == (True, 0)
