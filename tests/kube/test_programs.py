"""The programs the hub's pods run, found where the kubelet finds them.

`python3 -m NAME` runs a module installed in the runtime image (hubchaos,
learninghub). `python3 /opt/hubchaos-programs/NAME.py` runs a program of
another environment (the docker stack's migrate step, the monitoring
environment's webhook receiver): kustomize makes a ConfigMap of that
environment's own file and the pod mounts it. These tests follow each such
path through the container's volumeMounts and the pod's volumes to the
rendered ConfigMap, then run the program from that rendered text, with the
container's own arguments, as the pod would.
"""

from __future__ import annotations

import copy
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
import yaml

from hubchaos.budget.sources import overlay_case
from hubchaos.kube.kustomize import build
from hubchaos.kube.workloads import Manifests
from hubchaos.stack.local.postgres import PostgresCluster
from tests.conftest import free_port
from tests.kube.conftest import OVERLAY_NAMES, OVERLAYS, REPO

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")
# (kind, name) of the workload -> the environment file its container runs
PROGRAMS = {
    ("Job", "migrate"): ("docker", "migrate.py"),
    ("Deployment", "webhook-receiver"): ("monitoring", "webhook_receiver.py"),
}


@dataclass(frozen=True)
class Launch:
    """One container of a rendered workload and its command line as the kubelet expands it."""

    workload: dict[str, Any]
    container: dict[str, Any]
    words: list[str]

    @property
    def key(self) -> tuple[str, str]:
        return self.workload["kind"], self.workload["metadata"]["name"]


def launches(manifests: Manifests) -> list[Launch]:
    found = []
    for kind in WORKLOAD_KINDS:
        for workload in manifests.of_kind(kind):
            for container in workload["spec"]["template"]["spec"]["containers"]:
                words = manifests.command_line(workload, container["name"])
                found.append(Launch(workload, container, words))
    return found


def launch_of(manifests: Manifests, kind: str, name: str) -> Launch:
    (launch,) = [each for each in launches(manifests) if each.key == (kind, name)]
    return launch


def mounted_text(manifests: Manifests, launch: Launch, path: str) -> str:
    """What the container reads at `path`: the ConfigMap key mounted over its directory."""
    where = PurePosixPath(path)
    volumes = {v["name"]: v for v in launch.workload["spec"]["template"]["spec"].get("volumes", [])}
    for mount in launch.container.get("volumeMounts", []):
        if PurePosixPath(mount["mountPath"]) != where.parent or "subPath" in mount:
            continue
        volume = volumes[mount["name"]]
        if "configMap" not in volume or "items" in volume["configMap"]:
            raise LookupError(f"{launch.key}: {where.parent} is not a whole ConfigMap")
        data = manifests.require("ConfigMap", volume["configMap"]["name"]).get("data", {})
        if where.name not in data:
            raise LookupError(f"{launch.key}: ConfigMap {volume['configMap']['name']} "
                              f"has no key {where.name}")  # fmt: skip
        return str(data[where.name])
    raise LookupError(f"{launch.key}: nothing is mounted at {where.parent}")


def rendered(overlay: str) -> Manifests:
    return Manifests(build(OVERLAYS / overlay), f"overlay {overlay}")


def with_values(words: list[str], values: dict[str, str]) -> list[str]:
    """The command line with the value after each named option replaced (each must be there)."""
    result = list(words)
    for option, value in values.items():
        assert option in result, f"{option} missing from {words}"
        result[result.index(option) + 1] = value
    return result


def write_program(manifests: Manifests, launch: Launch, directory: Path) -> list[str]:
    """Write the script the container runs from the rendered ConfigMap; its argv here."""
    interpreter, script, *arguments = launch.words
    assert interpreter == "python3"
    local = directory / PurePosixPath(script).name
    local.write_text(mounted_text(manifests, launch, script))
    return [sys.executable, str(local), *arguments]


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_every_module_a_container_runs_is_installed(overlay: str) -> None:
    modules = {
        launch.words[2]
        for launch in launches(rendered(overlay))
        if launch.words[:2] == ["python3", "-m"]
    }
    assert "learninghub" in modules
    assert sorted(name for name in modules if importlib.util.find_spec(name) is None) == []


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_every_program_run_by_path_is_its_environments_own_file(overlay: str) -> None:
    manifests = rendered(overlay)
    scripts = {
        launch.key: launch
        for launch in launches(manifests)
        if launch.words[:1] == ["python3"] and launch.words[1].endswith(".py")
    }
    assert sorted(scripts) == sorted(PROGRAMS)
    for key, launch in scripts.items():
        source = REPO.joinpath("environments", *PROGRAMS[key])
        assert mounted_text(manifests, launch, launch.words[1]) == source.read_text(), key


def test_a_program_whose_volume_is_not_mounted_is_found_missing() -> None:
    manifests = rendered("fixed")
    objects = copy.deepcopy(manifests.objects)
    broken = Manifests(objects, "broken")
    launch = launch_of(broken, "Deployment", "webhook-receiver")
    script = launch.words[1]
    assert mounted_text(broken, launch, script)
    program_directory = str(PurePosixPath(script).parent)
    launch.container["volumeMounts"] = [
        mount
        for mount in launch.container["volumeMounts"]
        if mount["mountPath"] != program_directory
    ]
    with pytest.raises(LookupError, match="nothing is mounted"):
        mounted_text(broken, launch, script)
    migrate = launch_of(manifests, "Job", "migrate")
    with pytest.raises(LookupError, match="has no key"):
        mounted_text(manifests, migrate, "/opt/hubchaos-programs/missing.py")


def test_the_receiver_runs_from_its_config_map_and_takes_alertmanagers_posts(
    tmp_path: Path,
) -> None:
    manifests = rendered("fixed")
    launch = launch_of(manifests, "Deployment", "webhook-receiver")
    # Alertmanager posts to the receiver's Service on the port the container listens on.
    config = manifests.require("ConfigMap", "alertmanager-config")["data"]["alertmanager.yml"]
    (receiver,) = yaml.safe_load(config)["receivers"]
    webhook = urlsplit(receiver["webhook_configs"][0]["url"])
    service = manifests.require("Service", "webhook-receiver")["spec"]["ports"][0]
    assert (webhook.hostname, webhook.port) == ("webhook-receiver", service["port"])
    assert launch.words[launch.words.index("--port") + 1] == str(service["port"])

    port = free_port()
    out = tmp_path / "notifications.jsonl"
    argv = with_values(
        write_program(manifests, launch, tmp_path),
        {"--host": "127.0.0.1", "--port": str(port), "--out": str(out)},
    )
    log = tmp_path / "receiver.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        ready_path = launch.container["readinessProbe"]["httpGet"]["path"]
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url + ready_path, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the receiver never became ready"
            time.sleep(0.1)
        payload = {"status": "firing", "alerts": [{"labels": {"alertname": "HubDatabaseDown"}}]}
        response = httpx.post(url + webhook.path, json=payload, timeout=5)
        assert response.status_code < 300, response.text
        assert "HubDatabaseDown" in out.read_text()
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture()
def private_postgres() -> Iterator[PostgresCluster]:
    """A cluster of this test's own: the migrate step changes cluster-wide roles."""
    base = Path(tempfile.mkdtemp(prefix="hubchaos-kube-pg-"))
    cluster = PostgresCluster(base_dir=base, port=free_port(), max_connections=60)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_the_migrate_job_runs_from_its_config_map_and_sets_the_limits_the_budget_reads(
    tmp_path: Path, private_postgres: PostgresCluster
) -> None:
    manifests = rendered("fixed")
    launch = launch_of(manifests, "Job", "migrate")
    argv = write_program(manifests, launch, tmp_path)
    dsn = argv[argv.index("--dsn") + 1]
    assert "@postgres:5432/learninghub" in dsn  # the StatefulSet's Service, as in the pod
    local_dsn = dsn.replace("@postgres:5432/", f"@127.0.0.1:{private_postgres.port}/")
    # The postgres image creates the database from POSTGRES_DB; a bare cluster has none.
    with psycopg.connect(private_postgres.dsn(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE learninghub")
    result = subprocess.run(
        with_values(argv, {"--dsn": local_dsn}),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with psycopg.connect(private_postgres.dsn()) as conn:
        limits = dict(
            conn.execute(
                "SELECT rolname, rolconnlimit FROM pg_roles "
                "WHERE rolname IN ('learninghub', 'hubchaos_observer')"
            ).fetchall()
        )
    case = overlay_case(OVERLAYS / "fixed").resolved
    assert limits == {
        "learninghub": case.role_connection_limit,
        "hubchaos_observer": case.budget.observer_slots["observer role"],
    }
