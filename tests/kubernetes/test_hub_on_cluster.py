"""`hubchaos up --env kubernetes` on the local cluster: the offline overlay applied,
rolled out, reached on loopback port-forwards; an experiment written with nothing but
chaostoolkit-kubernetes and chaoslib runs through `hubchaos run` against it; `down`
deletes it and stops every forward.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from hubchaos.cluster.images import load_hub_images
from hubchaos.stack.local.processes import ProcessTable, is_ours
from tests.kubernetes.conftest import REPO, LocalCluster
from tests.stack.conftest import free_port_offset, run_cli

pytestmark = [pytest.mark.kubernetes, pytest.mark.slow]

PLAIN_EXPERIMENT = Path(__file__).parent / "data" / "plain-chaosk8s-scale.yaml"


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        return int(response.status)


def test_the_hub_deploys_answers_on_loopback_and_goes_away(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    load_hub_images(local_cluster.layout, lambda line: None)
    state_dir = tmp_path / "state"
    offset = free_port_offset()
    started = time.monotonic()
    up = run_cli("up", "--env", "kubernetes", "--offline", "--kubeconfig",
                 str(local_cluster.kubeconfig), "--namespace", "hubchaos-test",
                 "--state-dir", str(state_dir), "--port-offset", str(offset),
                 cwd=REPO, timeout=400)  # fmt: skip
    took = time.monotonic() - started
    try:
        assert up.returncode == 0, up.stderr[-3000:]
        print(f"hub up on the local cluster in {took:.1f} s")
        assert "rolled out" in up.stderr
        state = json.loads((state_dir / "stack.json").read_text())
        env = state["experiment_env"]
        assert env["HUBCHAOS_K8S_NAMESPACE"] == "hubchaos-test"
        assert env["KUBECONFIG"] == str(local_cluster.kubeconfig)
        assert env["HUBCHAOS_APP_URL"].startswith("http://127.0.0.1:")
        # App -> toxiproxy (Service name via the cluster DNS) -> PostgreSQL: /readyz.
        assert _get(env["HUBCHAOS_APP_URL"] + "/readyz") == 200
        assert _get(env["HUBCHAOS_PROMETHEUS_URL"] + "/-/ready") == 200
        status = run_cli("status", "--state-dir", str(state_dir), cwd=REPO, timeout=60)
        assert status.returncode == 0, status.stdout + status.stderr
        assert "deployment/learninghub" in status.stdout
        _plain_experiment_runs(local_cluster, state_dir, tmp_path / "report")
    finally:
        down = run_cli("down", "--state-dir", str(state_dir), cwd=REPO, timeout=200)
    assert down.returncode == 0, down.stderr
    table = ProcessTable(state_dir / "pids", state_dir / "logs")
    assert not [r for r in table.records() if is_ours(r)]
    assert not table.strays()
    left = local_cluster.kubectl("get", "all", "-n", "hubchaos-test", "-o", "name")
    assert left.stdout.strip() == "" or "NotFound" in left.stderr, left.stdout


def _plain_experiment_runs(cluster: LocalCluster, state_dir: Path, report: Path) -> None:
    # chaostoolkit-kubernetes reads KUBECONFIG when it is imported.
    env = {"KUBECONFIG": str(cluster.kubeconfig)}
    run = run_cli("run", str(PLAIN_EXPERIMENT), "--state-dir", str(state_dir),
                  "--report", str(report), cwd=REPO, env=env, timeout=400)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    journal = json.loads((report / "plain-chaosk8s-scale.journal.json").read_text())
    outputs = {r["activity"]["name"]: r.get("output") for r in journal["run"]}
    assert outputs["learninghub-pods"] == 3  # the scale-out happened
    assert journal["rollbacks"][0]["status"] == "succeeded"
    replicas = cluster.kubectl("get", "deployment/learninghub", "-n", "hubchaos-test",
                               "-o", "jsonpath={.spec.replicas}")  # fmt: skip
    assert replicas.stdout.strip() == "2", replicas.stderr  # and the rollback undid it
