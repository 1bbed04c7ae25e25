"""The stack's numbers as people read them, from a timeline sample."""

from __future__ import annotations

from hubchaos.view.readings import Readings, fraction, number, percent, rate, seconds

# one sample as hubchaos.controls.timeline.Sampler.sample() returns it mid-incident
INCIDENT_SAMPLE = {
    "time": "2024-01-15T09:12:03+00:00",
    "pool_used": 40.0,
    "pool_max": 40.0,
    "pool_pending": 87.0,
    "db_connections": 56.0,
    "db_max_connections": 60.0,
    "p95_latency_seconds": 1.825,
    "error_rate": 0.1234,
    "requests_per_second": 340.2,
    "alerts": {
        "HubDBPoolSaturated": "firing",
        "HubDBPoolRequestsWaiting": "firing",
        "HubDBConnectionsNearLimit": "pending",
    },
}


def test_a_sample_becomes_readings_with_alerts_split_by_state() -> None:
    readings = Readings.from_sample(INCIDENT_SAMPLE)
    assert readings.available
    assert (readings.pool_used, readings.pool_max, readings.pool_pending) == (40, 40, 87)
    assert readings.firing == ["HubDBPoolRequestsWaiting", "HubDBPoolSaturated"]
    assert readings.pending == ["HubDBConnectionsNearLimit"]


def test_the_status_line_carries_every_number() -> None:
    line = Readings.from_sample(INCIDENT_SAMPLE).status_line()
    assert line == (
        "pool 40/40 used, 87 waiting | db connections 56/60 | p95 1.82 s | errors 12.3% | "
        "340 req/s | alerts: firing HubDBPoolRequestsWaiting, HubDBPoolSaturated; "
        "pending HubDBConnectionsNearLimit"
    )


def test_missing_values_show_as_a_dash_never_as_zero() -> None:
    unreachable = {"time": "2024-01-15T09:12:03+00:00", **dict.fromkeys(INCIDENT_SAMPLE)}
    unreachable["alerts"] = {}
    readings = Readings.from_sample(unreachable)
    assert not readings.available
    assert readings.status_line() == (
        "pool -/- used, - waiting | db connections -/- | p95 - | errors - | - req/s | alerts: none"
    )
    assert not Readings.from_sample(None).available


def test_traffic_without_any_5xx_is_a_zero_error_rate() -> None:
    no_errors_yet = {**INCIDENT_SAMPLE, "error_rate": None}
    assert Readings.from_sample(no_errors_yet).error_rate == 0.0
    idle = {**no_errors_yet, "requests_per_second": 0.0}
    assert Readings.from_sample(idle).error_rate is None  # nothing to divide: unknown


def test_numbers_are_worded_for_their_size() -> None:
    assert [number(v) for v in (0.0, 3.0, 2.5, 12.4, None)] == ["0", "3", "2.5", "12", "-"]
    assert fraction(3.0, None) == "3/-"
    assert [seconds(v) for v in (0.0424, 0.9994, 1.0, 12.345)] == [
        "42 ms",
        "999 ms",
        "1.00 s",
        "12.35 s",
    ]
    assert [percent(v) for v in (0.0, 0.05, 1.0)] == ["0.0%", "5.0%", "100.0%"]
    assert [rate(v) for v in (0.4, 2.0, 99.94, 340.2)] == ["0.4", "2.0", "99.9", "340"]
