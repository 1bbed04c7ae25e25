"""The dockerised hub stack on a real engine: the experiments run unchanged against it.

Ordered to keep profile switches (a replica recreation each) few: everything
on `fixed` first, then `incident`, then the container faults, then `down`.
"""

from __future__ import annotations

import json
import stat

import httpx
import psycopg
import pytest
from chaoslib.exceptions import ActivityFailed

from hubchaos.actions import container as container_actions
from hubchaos.ledger.store import FaultLedger
from hubchaos.probes import container as container_probes
from hubchaos.stack.credentials import PASSWORD_FILE
from hubchaos.stack.docker.stack import docker_project_name
from hubchaos.stack.endpoints import SUPERUSER, db_dsn
from tests.docker.conftest import DockerHub, project_containers
from tests.stack.conftest import run_cli

pytestmark = [pytest.mark.docker, pytest.mark.slow]

EXIT_PASSED, EXIT_DEVIATED = 0, 1
# What a broken connection budget shows first: PostgreSQL full (the incident).
BUDGET_PROBES = ("another-client-can-log-in", "postgres-connections-stayed-inside-the-budget")


def first_failed_probe(journal: dict) -> str:
    """Chaos Toolkit stops the hypothesis at its first failing probe."""
    after = journal["steady_states"]["after"]["probes"]
    return next(p["activity"]["name"] for p in after if not p["tolerance_met"])


def test_up_reports_every_part_healthy_on_loopback(docker_hub: DockerHub) -> None:
    assert "hub stack is up: profile fixed, 2 replicas" in docker_hub.up_output
    status = run_cli("status", "--state-dir", str(docker_hub.state_dir), cwd=docker_hub.state_dir)
    assert status.returncode == 0, status.stdout + status.stderr
    for container in docker_hub.stack.project.containers():
        bindings = container.attrs["HostConfig"]["PortBindings"] or {}
        assert all(b["HostIp"] == "127.0.0.1" for v in bindings.values() for b in v), container.name
    health = {item["service"]: item for item in docker_hub.stack.health()}
    assert set(health) >= {"postgres", "toxiproxy", "app-1", "app-2", "prometheus", "exporter"}
    assert health["migrate"]["exit_code"] == 0


def test_the_stack_uses_its_own_random_superuser_password(docker_hub: DockerHub) -> None:
    password_file = docker_hub.state_dir / PASSWORD_FILE
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    assert len(password) >= 24 and password != "hubchaos"
    state = json.loads((docker_hub.state_dir / "stack.json").read_text())
    assert state["db_dsn"] == db_dsn(docker_hub.stack.ports.postgres, SUPERUSER, password)
    with psycopg.connect(state["db_dsn"], connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (SUPERUSER,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            db_dsn(docker_hub.stack.ports.postgres, SUPERUSER, "hubchaos"), connect_timeout=5
        ).close()
    # the exporter logs in with it too (pg_up 1), and no container is given the old one
    metrics = httpx.get(f"http://127.0.0.1:{docker_hub.stack.ports.exporter}/metrics", timeout=5)
    assert "\npg_up 1" in metrics.text
    for container in docker_hub.stack.project.containers():
        config = container.attrs["Config"]
        assert "hubchaos:hubchaos@" not in json.dumps([config.get("Env"), config.get("Cmd")])


def test_incident_replay_passes_on_fixed(docker_hub: DockerHub) -> None:
    outcome = docker_hub.run("incident-replay.yaml", "fixed")
    assert outcome.code == EXIT_PASSED, outcome.explain()
    assert outcome.journal["status"] == "completed"


def test_kill_replica_passes_on_fixed(docker_hub: DockerHub) -> None:
    outcome = docker_hub.run("kill-replica.yaml", "fixed")
    assert outcome.code == EXIT_PASSED, outcome.explain()
    after = {
        p["activity"]["name"]: p["output"]
        for p in outcome.journal["steady_states"]["after"]["probes"]
    }
    released = after["killed-replica-connections-released-within-15s"]
    assert released["down"] is True and released["count"] == 0
    killed = next(
        r for r in outcome.journal["run"] if r["activity"]["name"] == "kill-the-last-replica"
    )
    assert killed["output"]["service"] == "app-2" and killed["output"]["exit_code"] == 137
    assert outcome.journal["hubchaos_diagnosis"][0]["cause"] == "replica-down"
    # the rollback brought the replica back
    assert container_probes.container_health(docker_hub.configuration)["all_healthy"]


def test_incident_replay_deviates_on_incident(docker_hub: DockerHub) -> None:
    outcome = docker_hub.run("incident-replay.yaml", "incident")
    assert outcome.code == EXIT_DEVIATED, outcome.explain()
    assert first_failed_probe(outcome.journal) in BUDGET_PROBES


def test_kill_replica_deviates_on_incident(docker_hub: DockerHub) -> None:
    outcome = docker_hub.run("kill-replica.yaml", "incident")
    assert outcome.code == EXIT_DEVIATED, outcome.explain()
    after = outcome.journal["steady_states"]["after"]["probes"]
    failed = [probe["activity"]["name"] for probe in after if not probe["tolerance_met"]]
    # the budget broke: PostgreSQL filled up (the first failing probe ends the hypothesis)
    assert failed[0] in (
        "another-client-can-log-in",
        "postgres-connections-stayed-inside-the-budget",
    )
    # the rollback still started the replica, though the full database refuses it
    rollback = outcome.journal["rollbacks"][-1]
    assert rollback["status"] == "succeeded" and rollback["output"]["restored"] == ["app-2"]


def test_container_faults_and_their_rollback(docker_hub: DockerHub) -> None:
    docker_hub.use_profile("fixed")
    config = docker_hub.configuration
    paused = container_actions.pause_service("app-1", config)
    assert paused["paused"] is True
    health = container_probes.container_health(config)
    assert health["not_running"] == ["app-1"] and not health["all_healthy"]
    container_actions.unpause_service("app-1", config)

    stopped = container_actions.stop_service("app-2", 5, config)
    assert stopped["running"] is False
    released = container_probes.replica_connections_released(2, 15, config)
    assert released == {**released, "down": True, "ok": True, "count": 0}

    restarted = container_actions.restart_service("exporter", True, config)
    assert restarted["running"] is True

    restored = container_actions.restore_services(config)
    assert restored["restored"] == ["app-2"] and restored["unhealthy"] == []
    assert container_probes.container_health(config)["all_healthy"]
    assert container_probes.replica_connections_released(2, 5, config)["down"] is False


def test_container_faults_name_their_target_when_they_cannot_run(docker_hub: DockerHub) -> None:
    config = docker_hub.configuration
    with pytest.raises(
        ActivityFailed, match=r"docker stack in .*: stop nope: unknown service 'nope'"
    ):
        container_actions.stop_service("nope", 1, config)
    recorded = [entry.target for entry in FaultLedger(docker_hub.state_dir).entries()]
    assert "nope" not in recorded  # refused before the ledger: nothing for the switch to undo
    with pytest.raises(ActivityFailed, match=r"argument replica must be between 0 .* and 2, got 7"):
        container_actions.kill_replica(7, "SIGKILL", config)
    with pytest.raises(ActivityFailed, match="none is running there"):
        container_actions.kill_replica(
            0, "SIGKILL", {"hubchaos_state_dir": str(docker_hub.state_dir / "x")}
        )


def test_down_leaves_no_container_behind(docker_hub: DockerHub) -> None:
    result = run_cli("down", "--state-dir", str(docker_hub.state_dir), cwd=docker_hub.state_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stopped: app-1, app-2" in result.stdout
    assert project_containers(docker_project_name(docker_hub.offset)) == []
    status = run_cli("status", "--state-dir", str(docker_hub.state_dir), cwd=docker_hub.state_dir)
    assert status.returncode == 1
