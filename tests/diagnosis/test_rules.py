"""Each rule on evidence built sample by sample: its cause found, its neighbours' not.

The recorded runs (test_recorded_runs.py) cover what the local stack can
produce; these cover the rest (a replica that dies, an idle stack) and the
borders between neighbouring causes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hubchaos.diagnosis import CAUSES, Finding, diagnose
from hubchaos.diagnosis.evidence import Evidence, Injection

T0 = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
HEALTHY: dict[str, Any] = {
    "pool_used": 2.0,
    "pool_max": 40.0,
    "pool_pending": 0.0,
    "db_connections": 6.0,
    "db_budget": 57.0,
    "replicas_dead": 0.0,
    "replicas_scraped": 2.0,
    "db_up": 1.0,
    "app_db_up": 1.0,
    "error_rate": 0.0,
    "p95_latency_seconds": 0.01,
    "db_query_p95_seconds": 0.002,
    "queries_per_second": 5.0,
    "alerts": {},
}


def run(faulty: dict[str, Any], seconds: int = 20, fault: str = "http_spike") -> Evidence:
    """10 healthy samples, a fault at T0+10 s, then `seconds` samples with `faulty` values."""
    samples = [{**HEALTHY, "time": (T0 + timedelta(seconds=i)).isoformat()} for i in range(10)]
    for i in range(10, 10 + seconds):
        samples.append({**HEALTHY, **faulty, "time": (T0 + timedelta(seconds=i)).isoformat()})
    injection = Injection("the-fault", fault, {}, T0 + timedelta(seconds=10))
    return Evidence(samples, [injection])


def top(evidence: Evidence) -> Finding:
    return diagnose(evidence)[0]


def test_no_fault_no_diagnosis() -> None:
    evidence = run({})
    assert diagnose(Evidence(evidence.samples, [])) == []


def test_a_fault_the_stack_absorbs_is_none_with_what_was_looked_at() -> None:
    finding = top(run({}))
    assert finding.cause == "none"
    assert "no refused or unanswered login" in finding.evidence[0]


def test_a_dead_replica_is_replica_down() -> None:
    finding = top(run({"replicas_dead": 1.0}, fault="kill_replica"))
    assert finding.cause == "replica-down"
    assert any("1 of 2 replica(s) refused connections" in line for line in finding.evidence)


def test_a_replica_too_busy_to_be_scraped_is_not_down() -> None:
    # A busy replica times out its scrape (up 0), but replicas_dead counts only refused ones.
    causes = {f.cause for f in diagnose(run({"replicas_dead": 0.0, "pool_pending": 30.0}))}
    assert "replica-down" not in causes and "app-pool-exhausted" in causes


def test_a_blip_of_two_seconds_is_not_a_dead_replica() -> None:
    evidence = run({"replicas_dead": 1.0}, seconds=2)
    assert "replica-down" not in {f.cause for f in diagnose(evidence)}


def test_refused_logins_are_the_budget_not_an_outage() -> None:
    findings = diagnose(
        run({"logins_refused_53300": 10.0, "app_db_up": 0.0, "db_connections": 57.0})
    )
    assert findings[0].cause == "db-connection-budget-exhausted"
    assert "db-unreachable" not in {f.cause for f in findings}


def test_unanswered_logins_are_an_outage_not_the_budget() -> None:
    findings = diagnose(run({"logins_unanswered": 10.0, "app_db_up": 0.0, "db_up": 0.0}))
    assert findings[0].cause == "db-unreachable"
    assert "db-connection-budget-exhausted" not in {f.cause for f in findings}


def test_pools_larger_than_the_budget_that_hit_the_wall_are_misconfigured() -> None:
    wall = {"pool_max": 200.0, "db_connections": 57.0, "logins_refused_53300": 5.0}
    findings = diagnose(run(wall))
    assert [f.cause for f in findings[:2]] == [
        "app-pool-misconfigured",
        "db-connection-budget-exhausted",
    ]


def test_pools_larger_than_the_budget_that_never_hit_it_are_only_a_hint() -> None:
    findings = diagnose(run({"pool_max": 200.0, "db_connections": 20.0}))
    assert findings[0].cause == "none"
    latent = next(f for f in findings if f.cause == "app-pool-misconfigured")
    assert latent.confidence < 0.4 and "not reached" in latent.summary


def test_slow_queries_after_a_latency_toxic_are_db_latency() -> None:
    evidence = run({"db_query_p95_seconds": 0.8, "pool_pending": 5.0}, fault="add_latency")
    assert top(evidence).cause == "db-latency"


def after_a_busy_steady_state(query_p95: float, func: str, arguments: dict[str, Any]) -> Evidence:
    """A latency toxic after a steady state whose load (the capacity probe on 2 cores)
    lifted the median query p95 before the fault to 276 ms, as a CI run recorded."""
    evidence = run({"db_query_p95_seconds": query_p95, "pool_pending": 70.0})
    busy = [
        {**sample, "db_query_p95_seconds": 0.55} if i % 2 else sample
        for i, sample in enumerate(evidence.before)
    ]
    fault = Injection("slow-down-the-database-link", func, arguments, T0 + timedelta(seconds=10))
    return Evidence(busy + evidence.during, [fault])


@pytest.mark.parametrize(
    ("func", "arguments"),
    [
        ("add_latency", {"proxy": "hub_db", "latency_ms": 200}),
        ("create_latency_toxic", {"for_proxy": "hub_db", "toxic_name": "slow", "latency": 200}),
        (
            "create_toxic",
            {"for_proxy": "hub_db", "toxic_type": "latency", "attributes": {"latency": 200}},
        ),
    ],
)
def test_queries_carrying_the_injected_delay_are_db_latency_whatever_the_baseline(
    func: str, arguments: dict[str, Any]
) -> None:
    # 424 ms is not 3x the disturbed baseline, but it is the 200 ms delay reaching queries
    assert top(after_a_busy_steady_state(0.424, func, arguments)).cause == "db-latency"


def test_a_delay_the_queries_do_not_show_does_not_make_db_latency_certain() -> None:
    evidence = after_a_busy_steady_state(0.15, "add_latency", {"latency_ms": 200})
    assert top(evidence).cause == "app-pool-exhausted"


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_every_cause_is_a_valid_finding(cause: str) -> None:
    assert Finding(cause, 0.5, "x").as_dict()["cause"] == cause


def test_a_cause_outside_the_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown cause 'db-is-sad'"):
        Finding("db-is-sad", 0.5, "x")
