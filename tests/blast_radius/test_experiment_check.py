"""Every target and flood size of an experiment is checked when the file is validated:
`hubchaos run` exits 2 with one line naming the target, before any activity runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from hubchaos.blast_radius.validate import BlastRadiusError, check_experiment
from hubchaos.errors import UserError
from hubchaos.experiments import load_valid_experiment

REPO = Path(__file__).resolve().parents[2]
OUTSIDE = (
    "refusing to target host '{host}': it is outside the blast radius (loopback only "
    "by default); to allow it, add it to the configuration key 'hubchaos_allowed_hosts'"
)


@pytest.fixture(autouse=True)
def _no_stack_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("HUBCHAOS_", "PG")):
            monkeypatch.delenv(name)


def _experiment(
    method: list[dict[str, Any]], configuration: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "version": "1.0.0",
        "title": "t",
        "description": "d",
        "configuration": configuration or {},
        "method": method,
    }


def _probe(module: str, func: str, **arguments: Any) -> dict[str, Any]:
    provider = {"type": "python", "module": module, "func": func, "arguments": arguments}
    return {"type": "probe", "name": f"{func}-probe", "provider": provider}


def _refusal(experiment: dict[str, Any]) -> str:
    with pytest.raises(BlastRadiusError) as caught:
        check_experiment(experiment)
    return str(caught.value)


def test_chaoslib_http_provider_url_is_checked_after_substitution() -> None:
    experiment = _experiment(
        [{"type": "probe", "name": "ping", "provider": {"type": "http", "url": "${base}/x"}}],
        {"base": "http://10.0.0.1:8080"},
    )
    assert _refusal(experiment) == "activity 'ping': " + OUTSIDE.format(host="10.0.0.1")


def test_chaoslib_http_provider_on_loopback_passes() -> None:
    experiment = _experiment(
        [{"type": "probe", "name": "ping", "provider": {"type": "http", "url": "${base}/x"}}],
        {"base": "http://127.0.0.1:8080"},
    )
    check_experiment(experiment)


def test_hubchaos_probe_arguments_are_checked() -> None:
    experiment = _experiment(
        [_probe("hubchaos.probes.http", "http_get_status", url="http://169.254.169.254/meta")]
    )
    assert _refusal(experiment) == (
        "activity 'http_get_status-probe' argument url: " + OUTSIDE.format(host="169.254.169.254")
    )


def test_a_prometheus_probe_reaching_elsewhere_through_configuration_is_refused() -> None:
    experiment = _experiment(
        [_probe("hubchaos.probes.prometheus", "promql_instant", query="up")],
        {"hubchaos_prometheus_url": "http://10.2.2.2:9090"},
    )
    assert _refusal(experiment) == (
        "configuration hubchaos_prometheus_url: " + OUTSIDE.format(host="10.2.2.2")
    )


def test_hubchaos_endpoints_from_the_environment_are_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUBCHAOS_ALERTMANAGER_URL", "http://10.3.3.3:9093")
    experiment = _experiment([_probe("hubchaos.probes.alerts", "alert_states")])
    assert _refusal(experiment) == (
        "hubchaos setting hubchaos_alertmanager_url: " + OUTSIDE.format(host="10.3.3.3")
    )


def test_a_host_less_dsn_follows_pghost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGHOST", "10.4.4.4")
    experiment = _experiment(
        [_probe("hubchaos.probes.postgres", "connections_by_application", dsn="dbname=learninghub")]
    )
    assert _refusal(experiment) == (
        "activity 'connections_by_application-probe' argument dsn: "
        + OUTSIDE.format(host="10.4.4.4")
    )


def test_a_service_dsn_follows_the_service_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "services.conf").write_text("[hub]\nhost=10.5.5.5\nport=5432\n")
    monkeypatch.setenv("PGSERVICEFILE", str(tmp_path / "services.conf"))
    experiment = _experiment([], {"hubchaos_db_dsn": "service=hub dbname=learninghub"})
    experiment["method"] = [_probe("hubchaos.probes.postgres", "connections_by_application")]
    assert _refusal(experiment) == (
        "configuration hubchaos_db_dsn: " + OUTSIDE.format(host="10.5.5.5")
    )


def test_third_party_configuration_is_checked() -> None:
    experiment = _experiment(
        [_probe("chaostoxi.proxy.probes", "proxy_exist", proxy_name="hub_db")],
        {"toxiproxy_host": "10.6.6.6"},
    )
    assert _refusal(experiment) == "configuration toxiproxy_host: " + OUTSIDE.format(
        host="10.6.6.6"
    )


def test_listed_hosts_pass() -> None:
    experiment = _experiment(
        [_probe("hubchaos.probes.http", "http_get_status", url="http://10.0.0.1/healthz")],
        {"hubchaos_allowed_hosts": "10.0.0.0/24"},
    )
    check_experiment(experiment)


@pytest.mark.parametrize(
    ("func", "arguments", "message"),
    [
        ("flood_db_connections", {"count": 10_000_000},
         "argument count must be at least 1 and at most 10000, got 10000000"),
        ("flood_db_connections", {"rate": "1e9"},
         "argument rate must be between 0 and 100000, got '1e9'"),
        ("flood_tcp_connections", {"hold_seconds": 86_400},
         "argument hold_seconds must be between 0 and 3600, got 86400"),
        ("flood_tcp_connections", {"max_seconds": -1},
         "argument max_seconds must be between 0 and 3600, got -1"),
        ("http_spike", {"duration_seconds": 0},
         "argument duration_seconds must be greater than 0, got 0"),
        ("http_spike", {"concurrency": 50_000},
         "argument concurrency must be at least 1 and at most 10000, got 50000"),
        ("http_spike", {"max_requests": "lots"},
         "argument max_requests must be an integer, got 'lots'"),
    ],
)  # fmt: skip
def test_flood_sizes_are_checked_at_validation(
    func: str, arguments: dict[str, Any], message: str
) -> None:
    action = {
        "type": "action",
        "name": "flood",
        "provider": {
            "type": "python",
            "module": "hubchaos.actions.flood",
            "func": func,
            "arguments": arguments,
        },
    }
    assert _refusal(_experiment([action])) == f"activity 'flood': {message}"


def test_flood_sizes_templated_from_configuration_are_checked() -> None:
    action = {
        "type": "action",
        "name": "flood",
        "provider": {
            "type": "python",
            "module": "hubchaos.actions.flood",
            "func": "flood_db_connections",
            "arguments": {"count": "${flood_count}"},
        },
    }
    experiment = _experiment([action], {"flood_count": "20000"})
    assert _refusal(experiment) == (
        "activity 'flood': argument count must be at least 1 and at most 10000, got 20000"
    )


@pytest.mark.parametrize(
    "path", sorted((REPO / "experiments").glob("*.yaml")), ids=lambda p: p.stem
)
def test_shipped_experiments_pass(path: Path) -> None:
    """load_valid_experiment raises UserError on a refused target or flood size: that fails
    this test (the refusals themselves are asserted above)."""
    load_valid_experiment(str(path))


def test_load_valid_experiment_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "far.yaml"
    path.write_text(
        yaml.safe_dump(
            _experiment([_probe("hubchaos.probes.http", "http_get_status", url="http://10.0.0.1/")])
        )
    )
    with pytest.raises(UserError) as caught:
        load_valid_experiment(str(path))
    assert str(caught.value) == (
        f"{path}: activity 'http_get_status-probe' argument url: " + OUTSIDE.format(host="10.0.0.1")
    )


def _hubchaos_run(
    tmp_path: Path, name: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubchaos", "run", "--no-start", "--plain",
         "--state-dir", str(tmp_path / "state"), name],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip


def test_hubchaos_run_exits_2_naming_the_target_before_any_activity(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    experiment = _experiment(
        [
            {"type": "action", "name": "touch",
             "provider": {"type": "process", "path": "touch", "arguments": str(marker)}},
            _probe("hubchaos.probes.postgres", "connections_by_application"),
        ]
    )  # fmt: skip
    (tmp_path / "far.yaml").write_text(yaml.safe_dump(experiment))
    result = _hubchaos_run(
        tmp_path, "far.yaml", {"PGHOST": "10.7.7.7", "HUBCHAOS_DB_DSN": "dbname=x"}
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "hubchaos: error: far.yaml: hubchaos setting hubchaos_db_dsn: "
        + OUTSIDE.format(host="10.7.7.7")
    ]
    assert not marker.exists()


def test_a_target_that_is_not_a_url_is_named() -> None:
    experiment = _experiment(
        [_probe("hubchaos.probes.prometheus", "promql_instant", query="up")],
        {"hubchaos_prometheus_url": "127.0.0.1:9090"},
    )
    assert _refusal(experiment) == (
        "configuration hubchaos_prometheus_url: invalid target: not a URL: '127.0.0.1:9090'"
    )


def test_a_malformed_dsn_is_named_without_its_password() -> None:
    experiment = _experiment(
        [_probe("hubchaos.probes.postgres", "can_login", dsn="host=127.0.0.1 password=pw x")]
    )
    refusal = _refusal(experiment)
    assert refusal.startswith("activity 'can_login-probe' argument dsn: invalid target: ")
    assert 'missing "=" after "x"' in refusal and "pw " not in refusal


def test_values_known_only_during_the_run_are_left_to_the_activities() -> None:
    experiment = _experiment(
        [{"type": "probe", "name": "ping", "provider": {"type": "http", "url": "${later}/x"}}]
    )
    check_experiment(experiment)  # no configuration names `later`: nothing to check yet


def test_url_lists_are_split_and_single_urls_are_not() -> None:
    listed = _experiment(
        [_probe("hubchaos.probes.pool", "pool_stats",
                app_urls="http://127.0.0.1:18001,http://10.9.9.9:18002")]
    )  # fmt: skip
    assert _refusal(listed) == (
        "activity 'pool_stats-probe' argument app_urls: " + OUTSIDE.format(host="10.9.9.9")
    )
    query = _experiment(
        [{"type": "probe", "name": "q",
          "provider": {"type": "http", "url": "http://127.0.0.1:9090/api?match=a,b"}}]
    )  # fmt: skip
    check_experiment(query)
