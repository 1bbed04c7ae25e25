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


def test_the_fixed_stack_earns_every_point(journal: Journals) -> None:
    score = score_run(journal("incident-replay.fixed"))
    assert [p.name for p in score.parts] == [name for name, _, _ in DEFINITION]
    assert all(p.points == p.max for p in score.parts), score.parts
    assert score.value == 100
    assert "within the 30 s target" in _parts(score)["detection"][2]


def test_the_incident_stack_loses_the_hypothesis_and_the_unseen_recovery(
    journal: Journals,
) -> None:
    score = score_run(journal("incident-replay.incident"))
    parts = _parts(score)
    assert parts["hypothesis"][0] == 0
    assert "postgres-connections-stayed-inside-the-budget" in parts["hypothesis"][2]
    assert parts["recovery"][:2] == (0, 20)
    assert "not recovered" in parts["recovery"][2]
    assert parts["detection"][0] == 20 and parts["clean-up"][0] == 10
    assert score.value == round(100 * score.points / score.max_points) == 40


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
    assert points == pytest.approx(20 * (60 - (detect + 40)) / 30, abs=0.05)
    assert most == 20 and "over the 30 s target" in why
    flood["start"] = (start - timedelta(seconds=70)).isoformat()
    assert _parts(score_run(data))["detection"][0] == 0


def test_a_run_without_http_load_is_scored_without_the_requests_part(
    journal: Journals,
) -> None:
    data = journal("incident-replay.fixed")
    data["run"] = [r for r in data["run"] if (r.get("output") or {}).get("kind") != "http"]
    score = score_run(data)
    assert "requests" not in _parts(score)
    assert score.max_points == 90


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
    assert recovery[1] == 60 and recovery[2].startswith("3 of 3 runs")
    assert combine([]) == Score(0, [])
