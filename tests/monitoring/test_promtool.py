"""promtool and amtool, the real binaries, on the configuration and rules we ship.

A missing binary fails (never skips): CI installs them with ./scripts/setup.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hubchaos.stack.monitoring import (
    monitoring_dir,
    render_alertmanager_config,
    render_prometheus_config,
    rules_files,
)
from tests.monitoring.conftest import require_binary

MONITORING_DIR = monitoring_dir()
UNIT_TESTS = sorted(MONITORING_DIR.glob("tests/*.test.yml"))
RULES_FILE = MONITORING_DIR / "rules" / "hub-alerts.yml"


def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{' '.join(result.args)}:\n{result.stdout}\n{result.stderr}"


def test_rendered_prometheus_config_is_valid(tmp_path: Path) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text(
        render_prometheus_config(
            app_targets=["127.0.0.1:18001", "127.0.0.1:18002"],
            exporter_target="127.0.0.1:19187",
            proxy_target="127.0.0.1:8474",
            alertmanager_target="127.0.0.1:19093",
            rules_files=rules_files(),
        )
    )
    result = run([require_binary("promtool"), "check", "config", str(config)])
    assert_ok(result)
    assert "SUCCESS" in result.stdout


def test_reference_prometheus_config_is_valid() -> None:
    assert_ok(
        run([require_binary("promtool"), "check", "config", "prometheus.yml"], MONITORING_DIR)
    )


def test_alert_rules_are_valid() -> None:
    assert_ok(run([require_binary("promtool"), "check", "rules", *rules_files()]))


def test_alert_rule_unit_tests_pass() -> None:
    assert len(UNIT_TESTS) >= 4
    result = run([require_binary("promtool"), "test", "rules", *map(str, UNIT_TESTS)])
    assert_ok(result)
    assert result.stdout.count("SUCCESS") == len(UNIT_TESTS)


@pytest.mark.parametrize("source", ["rendered", "reference"])
def test_alertmanager_config_is_valid(source: str, tmp_path: Path) -> None:
    if source == "rendered":
        config = tmp_path / "alertmanager.yml"
        config.write_text(render_alertmanager_config(webhook_url="http://127.0.0.1:19095/alerts"))
    else:
        config = MONITORING_DIR / "alertmanager.yml"
    assert_ok(run([require_binary("amtool"), "check-config", str(config)]))


# Loosening a threshold must break a unit test: proof that the "stays quiet"
# cases sit right next to each threshold, not somewhere harmless.
LOOSENED = {
    "HubDBPoolSaturated": (">= 0.9", ">= 0.7", "pool.test.yml"),
    # > 1 fires for one timeout plus one rejection: proves both counters are summed.
    "HubDBPoolRequestsWaiting": ("\n          ) > 2", "\n          ) > 1", "pool.test.yml"),
    "HubDBConnectionsNearLimit": (
        "- max by (instance, server) (pg_settings_superuser_reserved_connections)",
        "- 0",
        "database.test.yml",
    ),
    "HubDatabaseDown": ("pg_up == 0", "pg_up <= 1", "database.test.yml"),
    # Without the `unless`, a refused login (53300) pages as "database down" again.
    "HubDatabaseDown:53300": ("unless on (pool)", "or on (pool)", "causes.test.yml"),
    # Without the SQLSTATE filter, an unreachable database pages as "budget exhausted".
    "HubDBConnectionBudgetExhausted": (
        "sum by (db_user) (\n            increase(db_client_connection_create_errors_total"
        '{db_response_status_code="53300"}',
        "sum by (db_user) (\n            increase(db_client_connection_create_errors_total",
        "causes.test.yml",
    ),
    "HubDBQuerySpike": ("> 3 * (avg_over_time", "> 2 * (avg_over_time", "query-spike.test.yml"),
    "HubHighLatency": ("p95_30s > 0.5", "p95_30s > 0.3", "http.test.yml"),
    "HubHighErrorRate": ("> 0.05", "> 0.02", "http.test.yml"),
}


@pytest.mark.parametrize("alertname", sorted(LOOSENED))
def test_a_loosened_threshold_fails_the_unit_tests(alertname: str, tmp_path: Path) -> None:
    original, loosened, test_file = LOOSENED[alertname]
    rules = RULES_FILE.read_text()
    assert rules.count(original) == 1, f"{alertname}: update LOOSENED, {original!r} not found once"
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / RULES_FILE.name).write_text(rules.replace(original, loosened))
    (tmp_path / "tests").mkdir()
    shutil.copy(MONITORING_DIR / "tests" / test_file, tmp_path / "tests" / test_file)

    result = run([require_binary("promtool"), "test", "rules", f"tests/{test_file}"], tmp_path)
    assert result.returncode != 0
    assert alertname.split(":")[0] in result.stdout + result.stderr
