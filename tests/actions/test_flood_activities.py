"""The flood actions and the PostgreSQL/HTTP probes follow Chaos Toolkit's
activity rules, refuse targets outside the blast radius and validate their
arguments with messages that say what to fix."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from chaoslib.activity import ensure_activity_is_valid
from chaoslib.discovery.discover import discover_activities
from chaoslib.exceptions import ActivityFailed, InvalidActivity
from chaoslib.experiment import ensure_experiment_is_valid

from hubchaos.actions import cluster_flood, flood
from hubchaos.activity.blast_radius import ensure_allowed_dsn, ensure_allowed_host
from hubchaos.probes import http as http_probes
from hubchaos.probes import postgres as postgres_probes
from hubchaos.traffic.stats import latency_summary

MODULES = [
    ("action", "hubchaos.actions.flood", flood),
    ("action", "hubchaos.actions.cluster_flood", cluster_flood),
    ("probe", "hubchaos.probes.postgres", postgres_probes),
    ("probe", "hubchaos.probes.http", http_probes),
]

REFUSAL = (
    "refusing to target host '{host}': it is outside the blast radius (loopback only "
    "by default); to allow it, add it to the configuration key 'hubchaos_allowed_hosts'"
)


# --- blast-radius guard ------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost", ""])
def test_guard_allows_loopback(host: str) -> None:
    # a refusal raises ActivityFailed, which fails this test
    assert ensure_allowed_host(host, None) is None


@pytest.mark.parametrize("host", ["10.0.0.1", "example.com", "192.168.1.20", "::2"])
def test_guard_refuses_other_hosts_with_a_message_saying_how_to_allow_them(host: str) -> None:
    with pytest.raises(ActivityFailed) as caught:
        ensure_allowed_host(host, None)
    assert str(caught.value) == REFUSAL.format(host=host)


@pytest.mark.parametrize(
    "allowed",
    [["10.0.0.1"], "db.internal, 10.0.0.1", ["10.0.0.0/24"], "10.0.0.0/8"],
)
def test_guard_allows_hosts_listed_in_configuration(allowed: Any) -> None:
    configuration = {"hubchaos_allowed_hosts": allowed}
    ensure_allowed_host("10.0.0.1", configuration)
    with pytest.raises(ActivityFailed, match=r"example\.com"):
        ensure_allowed_host("example.com", configuration)


def test_guard_reads_the_environment_when_configuration_is_silent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUBCHAOS_ALLOWED_HOSTS", "db.internal")
    ensure_allowed_host("DB.internal", None)
    with pytest.raises(ActivityFailed):
        ensure_allowed_host("10.0.0.1", None)


def test_guard_checks_every_host_of_a_dsn() -> None:
    ensure_allowed_dsn("postgresql://u:p@127.0.0.1:5432/db", None)
    ensure_allowed_dsn("host=localhost,127.0.0.2 port=5432,5433 dbname=db", None)
    with pytest.raises(ActivityFailed) as caught:
        ensure_allowed_dsn("host=127.0.0.1,10.0.0.1 dbname=db", None)
    assert str(caught.value) == REFUSAL.format(host="10.0.0.1")


def test_every_flood_refuses_a_remote_target_before_touching_the_network() -> None:
    with pytest.raises(ActivityFailed) as caught:
        flood.flood_db_connections(count=1, dsn="postgresql://u:p@10.0.0.1:5432/db")
    assert str(caught.value) == REFUSAL.format(host="10.0.0.1")
    with pytest.raises(ActivityFailed) as caught:
        flood.flood_tcp_connections(host="example.com", port=5432, count=1)
    assert str(caught.value) == REFUSAL.format(host="example.com")
    with pytest.raises(ActivityFailed) as caught:
        flood.http_spike(url="http://example.com:8080", duration_seconds=1)
    assert str(caught.value) == REFUSAL.format(host="example.com")
    with pytest.raises(ActivityFailed) as caught:
        http_probes.http_slo(url="http://10.0.0.1/", requests=1)
    assert str(caught.value) == REFUSAL.format(host="10.0.0.1")


def test_flood_targets_come_from_configuration() -> None:
    configuration = {"hubchaos_flood_dsn": "postgresql://u:p@10.9.9.9/db"}
    with pytest.raises(ActivityFailed, match=r"'10\.9\.9\.9'"):
        flood.flood_db_connections(count=1, configuration=configuration)
    with pytest.raises(ActivityFailed, match=r"'10\.9\.9\.9'"):
        flood.flood_tcp_connections(count=1, configuration=configuration)
    with pytest.raises(ActivityFailed, match=r"'10\.8\.8\.8'"):
        flood.http_spike(configuration={"hubchaos_app_url": "http://10.8.8.8:18000"})


# --- argument checks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"count": 0}, "argument count must be at least 1 and at most 10000, got 0"),
        ({"count": "many"}, "argument count must be an integer, got 'many'"),
        ({"rate": 0}, "argument rate must be greater than 0, got 0"),
        ({"hold_seconds": -1}, "argument hold_seconds must be between 0 and 3600, got -1"),
    ],
)
def test_db_flood_rejects_bad_arguments(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ActivityFailed) as caught:
        flood.flood_db_connections(**{"dsn": "host=127.0.0.1 dbname=x", **arguments})
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ([], "argument routes must be a non-empty list of {method, path, weight}"),
        ([{"method": "GET"}], "route 1 must be a mapping with a 'path' string"),
        ([{"path": "/", "method": "BREW"}], "route 1: unsupported HTTP method 'BREW'"),
        (
            [{"path": "/"}, {"path": "/", "weight": 0}],
            "route 2: weight must be a number greater than 0",
        ),
        (
            [{"path": "/a b"}],
            "route 1: path '/a b' must be printable ASCII without spaces (percent-encode it)",
        ),
        (
            [{"path": "/", "headers": {"X-A": "x\r\nEvil: 1"}}],
            "route 1: invalid header 'X-A': 'x\\r\\nEvil: 1'",
        ),
    ],
)
def test_http_spike_rejects_bad_routes(routes: list[Any], message: str) -> None:
    with pytest.raises(ActivityFailed) as caught:
        flood.http_spike(url="http://127.0.0.1:9", routes=routes, duration_seconds=1)
    assert str(caught.value) == message


def test_http_spike_rejects_a_url_that_is_not_http() -> None:
    with pytest.raises(ActivityFailed) as caught:
        flood.http_spike(url="ftp://127.0.0.1/", duration_seconds=1)
    assert str(caught.value) == "invalid URL 'ftp://127.0.0.1/': expected http://host[:port][/path]"


def test_latency_summary_uses_nearest_rank_in_milliseconds() -> None:
    summary = latency_summary([i / 1000.0 for i in range(1, 101)])  # 1..100 ms
    assert summary == {
        "count": 100,
        "mean": 50.5,
        "p50": 50.0,
        "p95": 95.0,
        "p99": 99.0,
        "max": 100.0,
    }
    assert latency_summary([])["p95"] is None


# --- Chaos Toolkit rules ---------------------------------------------------------------


# Probes an experiment reads into its dynamic configuration (`type: probe` entries):
# chaoslib stores their output as the value, so it is a plain number, not a mapping.
CONFIGURATION_PROBES = {"ordinary_login_ceiling": "integer"}


@pytest.mark.parametrize(("kind", "name", "module"), MODULES)
def test_chaoslib_discovers_every_exported_activity(kind: str, name: str, module: Any) -> None:
    discovered = discover_activities(name, kind)
    assert sorted(a["name"] for a in discovered) == sorted(module.__all__)
    for activity in discovered:
        assert activity["doc"], f"{activity['name']} has no docstring"
        arguments = [a["name"] for a in activity["arguments"]]
        assert arguments[-2:] == ["configuration", "secrets"], activity["name"]
        expected = CONFIGURATION_PROBES.get(activity["name"], "mapping")
        assert activity["return_type"] == expected, activity["name"]


@pytest.mark.parametrize(("kind", "name", "module"), MODULES)
def test_activities_have_annotated_simple_parameters(kind: str, name: str, module: Any) -> None:
    simple = (int, float, str, bool, list, dict, type(None))
    for func_name in module.__all__:
        func = getattr(module, func_name)
        for param in inspect.signature(func).parameters.values():
            assert param.kind is param.POSITIONAL_OR_KEYWORD, f"{func_name}.{param.name}"
            assert param.annotation is not param.empty, f"{func_name}.{param.name}"
            if param.default is not param.empty:
                assert isinstance(param.default, simple), f"{func_name}.{param.name}"


def _activity(kind: str, module: str, func: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "name": f"{func}-check",
        "provider": {"type": "python", "module": module, "func": func, "arguments": arguments},
    }


def test_chaoslib_validates_an_experiment_using_the_activities() -> None:
    """chaoslib's ensure_experiment_is_valid raises InvalidExperiment on any activity it
    cannot check (a missing module, a wrong signature, an unknown argument): that fails this
    test."""
    experiment = {
        "title": "floods and probes validate",
        "description": "every activity of this issue, as an experiment would use it",
        "configuration": {
            "hubchaos_db_dsn": {"type": "env", "key": "HUBCHAOS_DB_DSN", "default": "x"},
        },
        "steady-state-hypothesis": {
            "title": "PostgreSQL has room",
            "probes": [
                {
                    **_activity(
                        "probe",
                        "hubchaos.probes.postgres",
                        "connections_within_budget",
                        {"budget": 40},
                    ),
                    # booleans are numbers to a range tolerance: True is 1
                    "tolerance": {"type": "range", "target": "within_budget", "range": [1, 1]},
                },
                {
                    **_activity("probe", "hubchaos.probes.http", "http_slo", {"requests": 50}),
                    "tolerance": {"type": "range", "target": "p95_ms", "range": [0, 500]},
                },
            ],
        },
        "method": [
            {
                **_activity(
                    "action",
                    "hubchaos.actions.flood",
                    "flood_db_connections",
                    {"count": 80, "rate": 40, "hold_seconds": 20},
                ),
                "background": True,
            },
            _activity("action", "hubchaos.actions.flood", "http_spike", {"concurrency": 20}),
            _activity("action", "hubchaos.actions.flood", "flood_tcp_connections", {"count": 5}),
            _activity("probe", "hubchaos.probes.postgres", "connections_by_application", {}),
            _activity("probe", "hubchaos.probes.postgres", "connection_headroom", {}),
            _activity("probe", "hubchaos.probes.postgres", "can_login", {"timeout": 2}),
            _activity(
                "probe", "hubchaos.probes.postgres", "wait_for_connections_at_most", {"limit": 5}
            ),
            _activity("probe", "hubchaos.probes.http", "http_get_status", {"url": "/readyz"}),
        ],
        "rollbacks": [_activity("action", "hubchaos.actions.flood", "stop_floods", {})],
    }
    ensure_experiment_is_valid(experiment)  # raises InvalidExperiment on any bad activity


def test_chaoslib_rejects_unknown_and_missing_arguments() -> None:
    unknown = _activity("action", "hubchaos.actions.flood", "flood_db_connections", {"size": 5})
    with pytest.raises(InvalidActivity, match="argument 'size' is not part of the function"):
        ensure_activity_is_valid(unknown)
    missing = _activity("probe", "hubchaos.probes.postgres", "connections_within_budget", {})
    with pytest.raises(InvalidActivity, match="required argument 'budget' is missing"):
        ensure_activity_is_valid(missing)
