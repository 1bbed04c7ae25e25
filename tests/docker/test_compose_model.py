"""environments/docker/compose.yaml as the driver reads it (no engine needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hubchaos.errors import UserError
from hubchaos.stack.docker.compose import (
    ServiceSpec,
    compose_files,
    duration_ns,
    load_compose,
)
from hubchaos.stack.docker.config import render_configs
from hubchaos.stack.docker.stack import DockerStack
from hubchaos.stack.environments import environment_path
from hubchaos.stack.monitoring import webhook_receiver_program
from hubchaos.stack.profiles import load_profiles


def _specs(
    tmp_path: Path, replicas: int = 3, offline: bool = False, profile: str = "fixed",
    offset: int = 0,
) -> dict[str, ServiceSpec]:  # fmt: skip
    stack = DockerStack(tmp_path / ".hubchaos", port_offset=offset, progress=lambda line: None)
    resolved = load_profiles().resolve(profile, replicas)
    return {spec.name: spec for spec in stack.specs(resolved, offline)}


def test_every_service_publishes_on_loopback_only_and_has_a_health_check(tmp_path: Path) -> None:
    specs = _specs(tmp_path)
    assert set(specs) == {
        "postgres", "migrate", "toxiproxy", "app-1", "app-2", "app-3",
        "exporter", "prometheus", "alertmanager", "receiver",
    }  # fmt: skip
    for name, spec in specs.items():
        assert all(port.host_ip == "127.0.0.1" for port in spec.ports), name
        if name != "migrate":  # a one-shot job: it exits instead of staying healthy
            assert spec.healthcheck and spec.healthcheck["test"][0] == "CMD", name


def test_replicas_beyond_the_file_are_numbered_on_with_their_own_port_and_pool(
    tmp_path: Path,
) -> None:
    specs = _specs(tmp_path, replicas=3, offset=100)
    app3 = specs["app-3"]
    assert app3.environment["LEARNINGHUB_POOL_NAME"] == "app-3"
    assert app3.environment["LEARNINGHUB_APPLICATION_NAME"] == "learninghub-app-3"
    assert [(p.host_port, p.container_port) for p in app3.ports] == [(18103, 8000)]
    assert "app" in app3.aliases
    # fixed profile, 3 replicas: floor(50 / 3) - 1 = 15 per replica
    assert app3.environment["LEARNINGHUB_POOL_MAX"] == "15"
    assert "app-3" not in _specs(tmp_path, replicas=1)


def test_the_superuser_password_is_the_stacks_own_and_required(tmp_path: Path) -> None:
    specs = _specs(tmp_path)
    password = (tmp_path / ".hubchaos" / "superuser.password").read_text().strip()
    assert password != "hubchaos"
    assert specs["postgres"].environment["POSTGRES_PASSWORD"] == password
    assert f"postgresql://hubchaos:{password}@postgres:5432/learninghub" in (
        specs["migrate"].command or []
    )
    assert f"hubchaos:{password}@postgres" in specs["exporter"].environment["DATA_SOURCE_NAME"]
    # without the driver's variable, compose refuses (no fixed fallback password)
    with pytest.raises(UserError, match="HUBCHAOS_SUPERUSER_PASSWORD is not set"):
        load_compose(compose_files(False), {}, 2)


def test_postgres_gets_the_budget_of_profiles_yaml(tmp_path: Path) -> None:
    budget = load_profiles().budget
    command = _specs(tmp_path)["postgres"].command
    assert command is not None
    assert f"max_connections={budget.max_connections}" in command
    assert f"superuser_reserved_connections={budget.superuser_reserved_connections}" in command


def test_incident_profile_lifts_the_role_limit(tmp_path: Path) -> None:
    fixed = _specs(tmp_path)["migrate"].command
    incident = _specs(tmp_path, profile="incident")["migrate"].command
    assert fixed is not None and incident is not None
    assert fixed[fixed.index("--role-connection-limit") + 1] == "50"
    assert incident[incident.index("--role-connection-limit") + 1] == "-1"


def test_online_uses_the_real_toxiproxy_image_pinned_to_2x(tmp_path: Path) -> None:
    proxy = _specs(tmp_path)["toxiproxy"]
    assert proxy.image.startswith("ghcr.io/shopify/toxiproxy:2.")
    assert proxy.image.split(":")[1] != "latest"


def test_offline_builds_everything_from_the_local_debian_base(tmp_path: Path) -> None:
    specs = _specs(tmp_path, offline=True)
    for name, spec in specs.items():
        assert spec.image.startswith("hubchaos/"), name
    built = {spec.image: spec.build for spec in specs.values() if spec.build is not None}
    assert set(built) == {"hubchaos/runtime:offline", "hubchaos/services:offline"}
    assert all(b.args["BASE_IMAGE"] == "hubchaos/debian:bookworm" for b in built.values())
    assert specs["toxiproxy"].entrypoint == ["python3", "-m", "hubchaos", "proxy"]


def test_the_files_are_plain_compose_for_the_compose_cli() -> None:
    for path in compose_files(offline=True):
        data = yaml.safe_load(path.read_text())
        assert "version" not in data  # the Compose Specification: v2 and v1.27+ read it
        assert isinstance(data["services"], dict)


def test_rendered_configs_use_the_monitoring_renderers_with_network_names(tmp_path: Path) -> None:
    paths = render_configs(tmp_path, replicas=2)
    prometheus = yaml.safe_load(paths["prometheus.yml"].read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    targets = [c["targets"][0] for c in jobs["learninghub"]["static_configs"]]
    assert targets == ["app-1:8000", "app-2:8000"]
    assert prometheus["rule_files"] == ["/etc/hubchaos/rules/hub-alerts.yml"]
    alertmanager = yaml.safe_load(paths["alertmanager.yml"].read_text())
    assert (
        alertmanager["receivers"][0]["webhook_configs"][0]["url"] == "http://receiver:9095/alerts"
    )
    proxies = {p["name"]: p for p in json.loads(paths["toxiproxy.json"].read_text())}
    assert proxies["hub_db"]["upstream"] == "postgres:5432"
    assert proxies["hub_web"]["upstream"] == "app:8000"


def test_durations_and_unsupported_keys_are_checked(tmp_path: Path) -> None:
    assert duration_ns("1m30s") == 90_000_000_000
    assert duration_ns("500ms") == 500_000_000
    with pytest.raises(UserError, match="not a compose duration"):
        duration_ns("soon")
    bad = tmp_path / "compose.yaml"
    bad.write_text("services:\n  app-1: {image: x, privileged: true}\n")
    with pytest.raises(UserError, match="privileged, which the hubchaos docker driver"):
        load_compose([bad], {}, 1)


def test_the_programs_run_inside_the_stack_are_mounted_from_their_environment(
    tmp_path: Path,
) -> None:
    specs = _specs(tmp_path)
    programs = {
        "migrate": environment_path("docker", "migrate.py"),
        "receiver": webhook_receiver_program(),
    }
    for service, program in programs.items():
        command = specs[service].command or []
        mounts = {mount.target: mount for mount in specs[service].mounts}
        assert command[0] == "python3", service
        assert mounts[command[1]].source.resolve() == program.resolve(), service
        assert mounts[command[1]].read_only, service
        assert program.is_file(), program
