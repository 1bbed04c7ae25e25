"""The manifests follow the profiles, scaling.yaml and the monitoring templates."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from hubchaos.budget.sources import DEFAULT_REPLICAS, overlay_case
from hubchaos.kube.generate import load_scaling, stale_files
from hubchaos.kube.kustomize import build
from hubchaos.stack import local
from hubchaos.stack.profiles import PROFILES_ENV, default_profiles_path, load_profiles
from tests.kube.conftest import KUBERNETES, OVERLAYS, REPO


def test_generated_files_are_up_to_date() -> None:
    assert stale_files() == [], "run: python -m hubchaos.kube.generate"


def test_a_changed_profile_makes_the_generated_files_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = yaml.safe_load(default_profiles_path().read_text())
    data["postgres"]["max_connections"] = 80
    data["profiles"]["incident"]["pool"]["max_per_replica"] = 50
    changed = tmp_path / "profiles.yaml"
    changed.write_text(yaml.safe_dump(data))
    monkeypatch.setenv(PROFILES_ENV, str(changed))
    stale = {str(path) for path in stale_files()}
    assert {
        "base/generated/budget.env",
        # a larger budget: room for more replicas at fixed's pool size, and a higher limit
        "overlays/fixed/generated/hpa-patch.yaml",
        "overlays/fixed/generated/role.env",
        "overlays/incident/generated/pool.env",
    } <= stale
    assert "base/generated/prometheus.yml" not in stale


def test_a_changed_autoscaler_range_makes_the_patch_stale(tmp_path: Path) -> None:
    for path in KUBERNETES.rglob("*"):
        if path.is_file():
            target = tmp_path / path.relative_to(KUBERNETES)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    scaling = tmp_path / "scaling.yaml"
    scaling.write_text(scaling.read_text().replace("max_replicas: 10", "max_replicas: 12"))
    assert [str(path) for path in stale_files(tmp_path)] == [
        "overlays/incident/generated/hpa-patch.yaml"
    ]


@pytest.mark.parametrize("overlay", ["fixed", "incident"])
def test_the_rendered_overlay_carries_the_profile_numbers(overlay: str) -> None:
    profiles = load_profiles()
    scaling = next(each for each in load_scaling(profiles) if each.overlay == overlay)
    expected = scaling.resolve(profiles)
    found = overlay_case(OVERLAYS / overlay).resolved
    assert found.replicas == scaling.max_replicas
    assert found.pool == expected.pool
    assert found.role_connection_limit == expected.role_connection_limit
    assert found.app_connections_max == expected.app_connections_max
    budget = expected.budget
    assert found.budget.max_connections == budget.max_connections
    assert found.budget.superuser_reserved_connections == budget.superuser_reserved_connections
    assert found.budget.observers == budget.observers
    assert found.budget.app_budget == budget.app_budget


def test_fixed_max_replicas_comes_from_the_budget() -> None:
    profiles = load_profiles()
    fixed = next(each for each in load_scaling(profiles) if each.overlay == "fixed")
    resolved = fixed.resolve(profiles)
    # one more replica and the pools, sized for it, no longer fill the budget as well
    assert resolved.app_connections_max <= profiles.budget.app_budget
    assert (fixed.max_replicas + 1) * (resolved.pool.max + 1) > profiles.budget.app_budget


def test_monitoring_kustomization_lists_every_rule_file() -> None:
    monitoring = REPO / "environments" / "monitoring"
    spec = yaml.safe_load((monitoring / "kustomization.yaml").read_text())
    (generator,) = spec["configMapGenerator"]
    listed = sorted(generator["files"])
    assert listed == sorted(f"rules/{p.name}" for p in (monitoring / "rules").glob("*.yml"))


def test_prometheus_config_finds_every_replica_and_loads_the_mounted_rules() -> None:
    config = yaml.safe_load((KUBERNETES / "base/generated/prometheus.yml").read_text())
    rules = sorted(p.name for p in (REPO / "environments/monitoring/rules").glob("*.yml"))
    assert config["rule_files"] == [f"/etc/hubchaos/rules/{name}" for name in rules]
    app = next(job for job in config["scrape_configs"] if job["job_name"] == "learninghub")
    assert app["dns_sd_configs"][0]["names"] == ["learninghub-pods"]
    assert "static_configs" not in app


def test_profiles_default_replicas_match_hubchaos_up() -> None:
    assert DEFAULT_REPLICAS == local.DEFAULT_REPLICAS


def test_every_python_module_the_containers_run_exists() -> None:
    """The manifests run hubchaos/learninghub modules by name: a move must update them."""
    modules = set()
    for overlay in ("fixed", "fixed-offline"):
        for obj in build(OVERLAYS / overlay):
            spec = obj.get("spec", {}).get("template", {}).get("spec", {})
            for container in spec.get("containers", []):
                words = [*container.get("command", []), *container.get("args", [])]
                if words[:2] == ["python3", "-m"]:
                    modules.add(words[2])
    assert modules == {
        "hubchaos",
        "hubchaos.stack.docker_migrate",
        "hubchaos.stack.webhook_receiver",
        "learninghub",
    }
    missing = sorted(name for name in modules if importlib.util.find_spec(name) is None)
    assert missing == []
