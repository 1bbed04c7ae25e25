"""Rendering the Prometheus and Alertmanager configuration the stack driver writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from hubchaos.stack.monitoring import (
    pool_name,
    render_alertmanager_config,
    render_prometheus_config,
    rules_dir,
    rules_files,
)

REPO = Path(__file__).resolve().parents[2]


def render(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "app_targets": ["127.0.0.1:18001", "127.0.0.1:18002", "127.0.0.1:18003"],
        "exporter_target": "127.0.0.1:19187",
        "proxy_target": "127.0.0.1:8474",
        "alertmanager_target": "127.0.0.1:19093",
        "rules_files": rules_files(),
    }
    arguments.update(overrides)
    config: dict[str, Any] = yaml.safe_load(render_prometheus_config(**arguments))
    return config


def jobs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_rules_files_are_the_repository_rule_files() -> None:
    files = rules_files()
    assert files == [str(REPO / "environments/monitoring/rules/hub-alerts.yml")]
    assert rules_dir() == REPO / "environments/monitoring/rules"


def test_rules_files_are_found_from_any_working_directory(tmp_path: Path) -> None:
    code = "from hubchaos.stack.monitoring import rules_files; print(rules_files()[0])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.strip() == str(REPO / "environments/monitoring/rules/hub-alerts.yml")


def _rules_file_from(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    code = "from hubchaos.stack.monitoring import rules_files; print(rules_files()[0])"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, **env},
    )


def test_hubchaos_environments_setting_points_at_another_copy(tmp_path: Path) -> None:
    copy = tmp_path / "environments"
    shutil.copytree(REPO / "environments" / "monitoring", copy / "monitoring")
    result = _rules_file_from(tmp_path, HUBCHAOS_ENVIRONMENTS=str(copy))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(copy.resolve() / "monitoring/rules/hub-alerts.yml")


def test_a_wrong_hubchaos_environments_setting_is_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = subprocess.run(
        [sys.executable, "-m", "hubchaos", "up", "--state-dir", str(tmp_path / "state")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "HUBCHAOS_ENVIRONMENTS": str(missing)},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"hubchaos: error: HUBCHAOS_ENVIRONMENTS={missing} is not a directory"
    )
    assert not (tmp_path / "state" / "stack.json").exists()


def test_app_replicas_are_labelled_by_pool_in_order() -> None:
    app = jobs(render())["learninghub"]
    assert app["static_configs"] == [
        {"targets": ["127.0.0.1:18001"], "labels": {"pool": "app-1"}},
        {"targets": ["127.0.0.1:18002"], "labels": {"pool": "app-2"}},
        {"targets": ["127.0.0.1:18003"], "labels": {"pool": "app-3"}},
    ]
    # The app's own `pool` label must win, not be renamed to `exported_pool`.
    assert app["honor_labels"] is True
    assert [pool_name(n) for n in (1, 2, 3)] == ["app-1", "app-2", "app-3"]


def test_every_part_is_scraped_and_alerts_go_to_alertmanager() -> None:
    config = render()
    targets = {name: job["static_configs"][0]["targets"] for name, job in jobs(config).items()}
    assert targets["postgres-exporter"] == ["127.0.0.1:19187"]
    assert targets["toxiproxy"] == ["127.0.0.1:8474"]
    assert targets["alertmanager"] == ["127.0.0.1:19093"]
    assert config["alerting"]["alertmanagers"] == [
        {"static_configs": [{"targets": ["127.0.0.1:19093"]}]}
    ]
    assert config["rule_files"] == rules_files()


def test_intervals_are_short_and_the_timeout_fits_the_interval() -> None:
    default = render()["global"]
    assert default == {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    custom = render(scrape_interval="2s", evaluation_interval="500ms")["global"]
    assert custom == {
        "scrape_interval": "2s",
        "scrape_timeout": "2s",
        "evaluation_interval": "500ms",
    }


def test_relative_rule_files_become_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert render(rules_files=["rules/extra.yml"])["rule_files"] == [
        str(tmp_path / "rules/extra.yml")
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"app_targets": []}, "at least one app target"),
        ({"app_targets": ["127.0.0.1"]}, "host:port"),
        ({"exporter_target": "http://127.0.0.1:19187"}, "host:port"),
        ({"scrape_interval": "1"}, "Prometheus duration"),
        ({"evaluation_interval": "fast"}, "Prometheus duration"),
        ({"rules_files": []}, "at least one rules file"),
    ],
)
def test_bad_arguments_are_named(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render(**overrides)


def test_alertmanager_sends_everything_to_the_webhook_within_seconds() -> None:
    config = yaml.safe_load(render_alertmanager_config(webhook_url="http://127.0.0.1:40001/alerts"))
    route = config["route"]
    assert "routes" not in route  # no sub-route can divert an alert elsewhere
    (receiver,) = [r for r in config["receivers"] if r["name"] == route["receiver"]]
    (webhook,) = receiver["webhook_configs"]
    assert webhook["url"] == "http://127.0.0.1:40001/alerts"
    assert webhook["send_resolved"] is True
    assert route["group_wait"] == "1s"
    assert route["group_interval"] == "2s"
    assert route["repeat_interval"] == "30s"


def test_alertmanager_needs_an_http_webhook_url() -> None:
    with pytest.raises(ValueError, match="http"):
        render_alertmanager_config(webhook_url="127.0.0.1:19095/alerts")
