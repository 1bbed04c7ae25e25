"""Floods from inside the cluster (hubchaos.actions.cluster_flood) on the local cluster:
experiments/kubernetes/flood-from-the-cluster.yaml passes on `fixed` and deviates on
`incident`; its Job runs N pods that finish by themselves and report what they did;
nothing of it is left after the run, after a SIGTERM mid-flood (the safety control),
or after `kill -9` of the runner mid-flood and `hubchaos recover`; oversize floods are
refused in one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hubchaos.cluster.images import load_hub_images
from hubchaos.stack.local.processes import cmdline_of
from tests.kubernetes.conftest import REPO, LocalCluster
from tests.stack.conftest import free_port_offset, run_cli

pytestmark = [pytest.mark.kubernetes, pytest.mark.slow]

EXPERIMENT = REPO / "experiments" / "kubernetes" / "flood-from-the-cluster.yaml"
FLOOD_SELECTOR = "app.kubernetes.io/name=hubchaos-flood"
PODS = 3  # the experiment's default parallelism


def flood_objects(cluster: LocalCluster, namespace: str) -> list[str]:
    """Every Job and pod of a cluster flood in the namespace (whatever their state)."""
    done = cluster.kubectl("get", "jobs,pods", "-n", namespace, "-l", FLOOD_SELECTOR,
                           "-o", "name")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not callable(condition) or not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {seconds:g} s")
        time.sleep(1.0)


def interrupted_flood(path: Path) -> Path:
    """A long flood (2 pods, 300 s): only a kill can end it before the test does."""
    experiment = yaml.safe_load(EXPERIMENT.read_text())
    flood = experiment["method"][0]
    flood["background"] = False
    flood["provider"]["arguments"].update(parallelism=2, duration_seconds=300, concurrency=2)
    experiment.update(title="A cluster flood killed mid-way", method=[flood])
    experiment.pop("steady-state-hypothesis")
    path.write_text(json.dumps(experiment))
    return path


@pytest.mark.timeout(600)  # a deployment, the experiment and (fixed) a killed flood
@pytest.mark.parametrize(("profile", "verdict"), [("fixed", 0), ("incident", 1)])
def test_flood_from_the_cluster(
    local_cluster: LocalCluster, hub_namespace: str, tmp_path: Path, profile: str, verdict: int
) -> None:
    load_hub_images(local_cluster.layout, lambda line: None)
    state = str(tmp_path / "state")
    env = {**os.environ, "KUBECONFIG": str(local_cluster.kubeconfig)}
    up = run_cli("up", "--env", "kubernetes", "--offline", "--profile", profile,
                 "--kubeconfig", str(local_cluster.kubeconfig), "--namespace", hub_namespace,
                 "--state-dir", state, "--port-offset", str(free_port_offset()),
                 cwd=REPO, env=env, timeout=400)  # fmt: skip
    try:
        assert up.returncode == 0, up.stderr[-3000:]
        run = run_cli("run", str(EXPERIMENT), "--state-dir", state, "--report",
                      str(tmp_path / "report"), cwd=REPO, env=env, timeout=400)  # fmt: skip
        assert run.returncode == verdict, run.stderr[-3000:]
        if verdict == 1:
            assert "another-client-can-log-in" in run.stderr
        journal = json.loads(
            (tmp_path / "report" / "flood-from-the-cluster.journal.json").read_text()
        )
        (flood,) = [r for r in journal["run"]
                    if r["activity"]["name"] == "spike-from-a-job-in-the-cluster"]  # fmt: skip
        assert flood["status"] == "succeeded", flood.get("exception")
        result = flood["output"]
        # N pods ran, each finished by itself and reported its load, before the deadline
        assert result["parallelism"] == PODS
        assert (result["job_condition"], result["pods_succeeded"]) == ("Complete", PODS)
        assert result["pods_reported"] == PODS and result["pods_failed"] == 0
        assert result["stopped_by"] is None
        assert result["requests"] > 0 and sum(result["status_counts"].values()) > 0
        assert result["pods_removed"] == PODS
        # the run leaves no Job or pod of the flood behind
        assert flood_objects(local_cluster, hub_namespace) == []
        # and however a run ends mid-flood (one way per deployment, to keep the time down)
        if profile == "fixed":
            _kill_mid_flood_then_recover(local_cluster, hub_namespace, tmp_path, state, env)
        else:
            _sigterm_mid_flood(local_cluster, hub_namespace, tmp_path, state, env)
    finally:
        down = run_cli("down", "--state-dir", state, cwd=REPO, env=env, timeout=200)
    assert down.returncode == 0, down.stderr


def watchdogs_of(state: str) -> list[int]:
    """The dead man's switch of the state directory (`python -m hubchaos.ledger STATE`)."""
    found = []
    for entry in Path("/proc").iterdir():
        argv = cmdline_of(int(entry.name)) if entry.name.isdigit() else None
        if argv and "hubchaos.ledger" in argv and any(state in part for part in argv):
            found.append(int(entry.name))
    return found


def _start_long_flood(
    cluster: LocalCluster, namespace: str, tmp_path: Path, state: str, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """`hubchaos run` of a 300 s cluster flood, returned once both its pods are running."""
    experiment = interrupted_flood(tmp_path / "long-flood.json")
    with (tmp_path / "long-flood.log").open("w") as log:
        runner = subprocess.Popen([sys.executable, "-m", "hubchaos", "run", str(experiment),
                                   "--state-dir", state], cwd=REPO, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)  # fmt: skip
    running = lambda: sum(" Running " in line for line in cluster.kubectl(  # noqa: E731
        "get", "pods", "-n", namespace, "-l", FLOOD_SELECTOR, "--no-headers"
    ).stdout.splitlines()) == 2  # fmt: skip
    try:
        wait_for(running, 180, "2 flood pods running")
    except BaseException:
        runner.kill()
        runner.wait(timeout=30)
        raise
    return runner


def _sigterm_mid_flood(
    cluster: LocalCluster, namespace: str, tmp_path: Path, state: str, env: dict[str, str]
) -> None:
    """SIGTERM of `hubchaos run` mid-flood: the safety control removes the Job and its pods
    before the run exits (interrupted, 5)."""
    runner = _start_long_flood(cluster, namespace, tmp_path, state, env)
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=120) == 5, (tmp_path / "long-flood.log").read_text()[-3000:]
    assert flood_objects(cluster, namespace) == []


def _kill_mid_flood_then_recover(
    cluster: LocalCluster, namespace: str, tmp_path: Path, state: str, env: dict[str, str]
) -> None:
    """`kill -9` of `hubchaos run` mid-flood, and of its dead man's switch (as a crash of
    the machine would): the Job stays in the cluster, and `hubchaos recover` removes it
    and its pods. (With the switch alive, the switch removes them within seconds.)"""
    runner = _start_long_flood(cluster, namespace, tmp_path, state, env)
    runner.send_signal(signal.SIGSTOP)  # no heartbeat may start another switch
    for pid in watchdogs_of(state):
        os.kill(pid, signal.SIGKILL)
    runner.send_signal(signal.SIGKILL)
    assert runner.wait(timeout=30) == -signal.SIGKILL
    time.sleep(3)  # what a live switch would have needed to remove the Job
    left = flood_objects(cluster, namespace)
    assert any(name.startswith("job.batch/") for name in left), left
    assert sum(name.startswith("pod/") for name in left) == 2, left
    recover = run_cli("recover", "--state-dir", state, cwd=REPO, env=env, timeout=200)
    assert recover.returncode == 0, recover.stdout + recover.stderr
    assert "undone (ledger): flood:cluster_http" in recover.stdout, recover.stdout
    # recover returns once the pods are gone, not merely deleted
    assert flood_objects(cluster, namespace) == []


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HUBCHAOS_CLUSTER_FLOOD_PODS", "21",
         "argument parallelism must be at least 1 and at most 20, got 21"),
        ("HUBCHAOS_CLUSTER_FLOOD_SECONDS", "601",
         "argument duration_seconds must be between 0 and 600, got '601'"),
    ],
)  # fmt: skip
def test_oversize_cluster_floods_are_refused(
    local_cluster: LocalCluster, hub_namespace: str, tmp_path: Path, variable: str, value: str,
    message: str,
) -> None:  # fmt: skip
    env = {**os.environ, "KUBECONFIG": str(local_cluster.kubeconfig),
           "HUBCHAOS_K8S_NAMESPACE": hub_namespace, variable: value}  # fmt: skip
    run = run_cli("run", str(EXPERIMENT), "--state-dir", str(tmp_path / "state"),
                  cwd=REPO, env=env, timeout=60)  # fmt: skip
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(message), run.stderr
    assert flood_objects(local_cluster, hub_namespace) == []
