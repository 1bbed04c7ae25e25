"""The resilience score of real runs, and how its parts react to what a journal says."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from hubchaos.journal.facts import facts_from_journal, parse_time
from hubchaos.score import DEFINITION, Score, combine, score_run

Journals = Callable[[str], dict[str, Any]]


def _parts(score: Score) -> dict[str, tuple[float, int, str]]:
    return {p.name: (p.points, p.max, p.why) for p in score.parts}


def test_the_fixed_stack_earns_every_point_but_the_service_its_users_lost(
    journal: Journals,
) -> None:
    score = score_run(journal("incident-replay.fixed"))
    assert [p.name for p in score.parts] == [name for name, _, _ in DEFINITION]
    parts = _parts(score)
    assert all(p.points == p.max for p in score.parts if p.name != "service"), score.parts
    assert "within the 30 s target" in parts["detection"][2]
    # 58040 of 59186 requests were fast 503s (120 more still waiting at the end):
    # the caps held, but users lost service (98 % 5xx)
    assert parts["service"][0] == pytest.approx(25 * (751 + 395) / 59306, abs=0.05)
    assert "1146 of 59306 requests served (1.9%)" in parts["service"][2]
    assert score.value == 76


def test_the_incident_stack_loses_the_hypothesis_and_the_unseen_recovery(
    journal: Journals,
) -> None:
    score = score_run(journal("incident-replay.incident"))
    parts = _parts(score)
    assert parts["hypothesis"][0] == 0
    assert "postgres-connections-stayed-inside-the-budget" in parts["hypothesis"][2]
    assert "not recovered" in parts["recovery"][2]
    assert parts["detection"][0] == 15 and parts["clean-up"][0] == 10
    assert parts["recovery"][:2] == (0, 15)
    # every request answered (slowly): the 120 still waiting when the load stopped lost service
    assert parts["service"][0] == pytest.approx(25 * 11973 / (11973 + 120), abs=0.05)
    assert score.value == round(100 * score.points / score.max_points) == 50


def test_detection_loses_points_linearly_past_the_target(journal: Journals) -> None:
    data = journal("incident-replay.fixed")
    detect = facts_from_journal(data).seconds_to_detect()
    assert detect is not None
    flood = next(r for r in data["run"] if r["activity"]["name"] == "flood-database-logins")
    start = parse_time(flood["start"])
    assert start is not None
    # the same run, had the flood started 40 s earlier: detection took 40 s longer
    flood["start"] = (start - timedelta(seconds=40)).isoformat()
    points, most, why = _parts(score_run(data))["detection"]
    assert points == pytest.approx(15 * (60 - (detect + 40)) / 30, abs=0.05)
    assert most == 15 and "over the 30 s target" in why
    flood["start"] = (start - timedelta(seconds=70)).isoformat()
    assert _parts(score_run(data))["detection"][0] == 0


def test_a_run_without_http_load_is_scored_without_the_service_part(
    journal: Journals,
) -> None:
    data = journal("incident-replay.fixed")
    data["run"] = [r for r in data["run"] if (r.get("output") or {}).get("kind") != "http"]
    score = score_run(data)
    assert "service" not in _parts(score)
    assert score.max_points == 75 and score.value == 100


def test_clean_up_counts_only_when_the_safety_control_restored_the_stack(
    journal: Journals,
) -> None:
    data = journal("incident-replay.fixed")
    data["hubchaos_safety"].update(
        clean=False, leftover_connections=3, errors=["removing toxics: refused"]
    )
    points, _, why = _parts(score_run(data))["clean-up"]
    assert points == 0 and "removing toxics: refused" in why and "3 connections" in why
    del data["hubchaos_safety"]
    assert "no safety control" in _parts(score_run(data))["clean-up"][2]


def test_combine_adds_every_runs_points(journal: Journals) -> None:
    fixed = score_run(journal("incident-replay.fixed"))
    incident = score_run(journal("incident-replay.incident"))
    latency = score_run(journal("db-latency.fixed"))
    both = combine([fixed, incident, latency])
    earned = fixed.points + incident.points + latency.points
    possible = fixed.max_points + incident.max_points + latency.max_points
    assert both.value == round(100 * earned / possible)
    recovery = _parts(both)["recovery"]
    assert recovery[1] == 45 and recovery[2].startswith("3 of 3 runs")
    assert combine([]) == Score(0, [])
