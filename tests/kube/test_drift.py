"""The manifests follow the profiles, scaling.yaml and the monitoring templates."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from hubchaos.budget.sources import OBSERVER_LIMIT_DEFAULT, overlay_case
from hubchaos.kube.generate import load_scaling, stale_files
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
    generators = {each["name"]: each for each in spec["configMapGenerator"]}
    listed = sorted(generators["hub-alert-rules"]["files"])
    assert listed == sorted(f"rules/{p.name}" for p in (monitoring / "rules").glob("*.yml"))


def test_prometheus_config_finds_every_replica_and_loads_the_mounted_rules() -> None:
    config = yaml.safe_load((KUBERNETES / "base/generated/prometheus.yml").read_text())
    rules = sorted(p.name for p in (REPO / "environments/monitoring/rules").glob("*.yml"))
    assert config["rule_files"] == [f"/etc/hubchaos/rules/{name}" for name in rules]
    app = next(job for job in config["scrape_configs"] if job["job_name"] == "learninghub")
    assert app["dns_sd_configs"][0]["names"] == ["learninghub-pods"]
    assert "static_configs" not in app


def argparse_default(program: Path, option: str) -> object:
    """The default of `option` in a script's `add_argument` calls, read without running it."""
    for node in ast.walk(ast.parse(program.read_text(), str(program))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_argument"
            and any(isinstance(a, ast.Constant) and a.value == option for a in node.args)
        ):
            for keyword in node.keywords:
                if keyword.arg == "default":
                    return ast.literal_eval(keyword.value)
            return None
    raise LookupError(f"{program}: no add_argument({option!r})")


def test_the_observer_limit_default_is_the_migrate_programs() -> None:
    """The budget's default when a Job omits --observer-limit is the one migrate.py applies."""
    migrate = REPO / "environments" / "docker" / "migrate.py"
    assert argparse_default(migrate, "--observer-limit") == OBSERVER_LIMIT_DEFAULT


def test_a_changed_observer_limit_default_is_seen(tmp_path: Path) -> None:
    migrate = (REPO / "environments" / "docker" / "migrate.py").read_text()
    changed = tmp_path / "migrate.py"
    declared = f'"--observer-limit", type=int, default={OBSERVER_LIMIT_DEFAULT}'
    assert declared in migrate
    changed.write_text(migrate.replace(declared, '"--observer-limit", type=int, default=9'))
    assert argparse_default(changed, "--observer-limit") == 9
    with pytest.raises(LookupError):
        argparse_default(changed, "--observer-slots")
