"""experiments/kubernetes/kill-learninghub-pod.yaml on the local cluster: it passes on
`fixed` and deviates on `incident` (the pools take PostgreSQL's last slots), through
`hubchaos run`, with chaostoolkit-kubernetes terminating the pod."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hubchaos.cluster.images import load_hub_images
from tests.kubernetes.conftest import REPO, LocalCluster
from tests.stack.conftest import free_port_offset, run_cli

pytestmark = [pytest.mark.kubernetes, pytest.mark.slow]

EXPERIMENT = REPO / "experiments" / "kubernetes" / "kill-learninghub-pod.yaml"


@pytest.mark.parametrize(("profile", "verdict"), [("fixed", 0), ("incident", 1)])
def test_kill_a_learninghub_pod(
    local_cluster: LocalCluster, hub_namespace: str, tmp_path: Path, profile: str, verdict: int
) -> None:
    load_hub_images(local_cluster.layout, lambda line: None)
    state = str(tmp_path / "state")
    offset = str(free_port_offset())
    # chaostoolkit-kubernetes reads KUBECONFIG when it loads, before hubchaos exports it.
    env = {**os.environ, "KUBECONFIG": str(local_cluster.kubeconfig)}
    up = run_cli("up", "--env", "kubernetes", "--offline", "--profile", profile,
                 "--kubeconfig", str(local_cluster.kubeconfig), "--namespace", hub_namespace,
                 "--state-dir", state,
                 "--port-offset", offset, cwd=REPO, env=env, timeout=400)  # fmt: skip
    try:
        assert up.returncode == 0, up.stderr[-3000:]
        run = run_cli("run", str(EXPERIMENT), "--state-dir", state, "--report",
                      str(tmp_path / "report"), cwd=REPO, env=env, timeout=300)  # fmt: skip
        assert run.returncode == verdict, run.stderr[-3000:]
        journal = json.loads(
            (tmp_path / "report" / "kill-learninghub-pod.journal.json").read_text()
        )
        killed = [
            r for r in journal["run"] if r["activity"]["name"] == "terminate-one-learninghub-pod"
        ]
        assert killed and killed[0]["status"] == "succeeded"
        if verdict == 1:
            assert "another-client-can-log-in" in run.stderr
    finally:
        down = run_cli("down", "--state-dir", state, cwd=REPO, env=env, timeout=200)
    assert down.returncode == 0, down.stderr
