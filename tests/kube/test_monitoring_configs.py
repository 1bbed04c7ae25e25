"""The generated Prometheus and Alertmanager configurations are valid for the real tools."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.kube.conftest import KUBERNETES, REPO

RULES = REPO / "environments" / "monitoring" / "rules"


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_prometheus_config_with_the_mounted_rules(tmp_path: Path) -> None:
    config = yaml.safe_load((KUBERNETES / "base/generated/prometheus.yml").read_text())
    # The pod mounts the rules at /etc/hubchaos/rules; here they are read from the source.
    config["rule_files"] = [str(RULES / Path(path).name) for path in config["rule_files"]]
    checked = tmp_path / "prometheus.yml"
    checked.write_text(yaml.safe_dump(config))
    result = run("promtool", "check", "config", str(checked))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_refuses_a_broken_config(tmp_path: Path) -> None:
    config = yaml.safe_load((KUBERNETES / "base/generated/prometheus.yml").read_text())
    config["rule_files"] = []
    config["scrape_configs"][0]["dns_sd_configs"][0]["type"] = "CNAME"
    broken = tmp_path / "prometheus.yml"
    broken.write_text(yaml.safe_dump(config))
    assert run("promtool", "check", "config", str(broken)).returncode != 0


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool is not installed")
def test_amtool_accepts_the_alertmanager_config() -> None:
    result = run("amtool", "check-config", str(KUBERNETES / "base/generated/alertmanager.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
