"""experiments/kubernetes/drain-learninghub-node.yaml on the local cluster: it passes on
`fixed` and deviates on `incident` (the pools take PostgreSQL's last slots), through
`hubchaos run`; the node was really cordoned during the run (a replacement pod sat
Pending), and afterwards it is schedulable and the Deployment fully available again.

The node may be shared with other namespaces: only this test's learninghub pods are
evicted, and the node is uncordoned here too, however the run ended."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from hubchaos.cluster.images import load_hub_images
from hubchaos.ledger.store import FaultLedger
from tests.kubernetes.conftest import REPO, LocalCluster
from tests.stack.conftest import free_port_offset, run_cli

pytestmark = [pytest.mark.kubernetes, pytest.mark.slow]

EXPERIMENT = REPO / "experiments" / "kubernetes" / "drain-learninghub-node.yaml"
NODE = "localhost"  # the local cluster's one node


def _unschedulable(cluster: LocalCluster) -> bool:
    done = cluster.kubectl("get", "node", NODE, "-o", "jsonpath={.spec.unschedulable}")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip() == "true"


def _method_output(journal: dict[str, Any], name: str) -> Any:
    runs = [r for r in journal["run"] if r["activity"]["name"] == name]
    assert runs, f"{name} did not run"
    assert runs[0]["status"] == "succeeded", runs[0].get("exception")
    return runs[0]["output"]


@pytest.mark.parametrize(("profile", "verdict"), [("fixed", 0), ("incident", 1)])
def test_drain_the_hub_node(
    local_cluster: LocalCluster, hub_namespace: str, tmp_path: Path, profile: str, verdict: int
) -> None:
    load_hub_images(local_cluster.layout, lambda line: None)
    state = str(tmp_path / "state")
    offset = str(free_port_offset())
    # chaostoolkit-kubernetes reads KUBECONFIG when it loads, before hubchaos exports it.
    env = {**os.environ, "KUBECONFIG": str(local_cluster.kubeconfig), "HUBCHAOS_K8S_NODE": NODE}
    up = run_cli("up", "--env", "kubernetes", "--offline", "--profile", profile,
                 "--kubeconfig", str(local_cluster.kubeconfig), "--namespace", hub_namespace,
                 "--state-dir", state,
                 "--port-offset", offset, cwd=REPO, env=env, timeout=400)  # fmt: skip
    try:
        assert up.returncode == 0, up.stderr[-3000:]
        run = run_cli("run", str(EXPERIMENT), "--state-dir", state, "--report",
                      str(tmp_path / "report"), cwd=REPO, env=env, timeout=300)  # fmt: skip
        # Whatever the verdict, the node is schedulable once the run is over (rollback).
        assert not _unschedulable(local_cluster), "the rollback left the node cordoned"
        assert run.returncode == verdict, run.stderr[-3000:]
        journal = json.loads(
            (tmp_path / "report" / "drain-learninghub-node.journal.json").read_text()
        )
        assert _method_output(journal, "cordon-the-hub-node") == [NODE]
        evicted = _method_output(journal, "evict-one-learninghub-pod")
        assert len(evicted["evicted"]) == 1 and evicted["namespace"] == hub_namespace
        while_cordoned = _method_output(journal, "hub-node-while-cordoned")
        assert while_cordoned["unschedulable"] is True and while_cordoned["schedulable"] is False
        # The evicted pod's replacement could not be placed while the node was cordoned.
        assert _method_output(journal, "learninghub-pods-pending-while-cordoned") >= 1
        assert _method_output(journal, "maintenance-over-uncordon-the-node") == [NODE]
        rollbacks = {r["activity"]["name"]: r for r in journal["rollbacks"]}
        assert rollbacks["uncordon-the-hub-node"]["status"] == "succeeded"
        assert FaultLedger(Path(state).resolve()).entries() == [], "the cordon is not settled"
        if verdict == 0:
            # The hub answered from the surviving pod while its replacement was Pending
            # (a page, or a fast 503 when the bounded pool is busy; None: nothing answered).
            assert _method_output(journal, "hub-answers-while-cordoned")["status"] in (200, 503)
        else:
            assert "another-client-can-log-in" in run.stderr
        # Clean rollback: the Deployment is fully available again on the uncordoned node.
        rollout = local_cluster.kubectl(
            "rollout", "status", "deployment/learninghub", "-n", hub_namespace,
            "--timeout=90s", timeout=120,
        )  # fmt: skip
        assert rollout.returncode == 0, rollout.stdout + rollout.stderr
    finally:
        # A shared node must never stay cordoned by this test, even if the run was killed.
        local_cluster.kubectl("uncordon", NODE)
        down = run_cli("down", "--state-dir", state, cwd=REPO, env=env, timeout=200)
    assert down.returncode == 0, down.stderr


def test_a_dead_runners_cordon_is_undone_by_the_dead_mans_switch(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    """The cordon is in the fault ledger: when a runner dies before its rollback, the
    watchdog uncordons the node within seconds (the node may be shared)."""
    state = tmp_path / "state"
    state.mkdir()
    env = {**os.environ, "KUBECONFIG": str(local_cluster.kubeconfig),
           "HUBCHAOS_STATE_DIR": str(state)}  # fmt: skip
    runner = textwrap.dedent(f"""
        import os
        from hubchaos.actions.cordon import cordon_node
        assert cordon_node({NODE!r}) == [{NODE!r}]
        os._exit(0)  # dies without its rollback
    """)
    try:
        died = subprocess.run([sys.executable, "-c", runner], env=env, capture_output=True,
                              text=True, timeout=60, check=False)  # fmt: skip
        assert died.returncode == 0, died.stderr
        ledger = FaultLedger(state.resolve())
        deadline = time.monotonic() + 20.0
        while ledger.entries() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert ledger.entries() == [], "the dead man's switch did not undo the cordon"
        assert not _unschedulable(local_cluster), "the dead man's switch left the node cordoned"
        log = (ledger.dir / "watchdog.log").read_text()
        assert f"undid kubernetes:cordon node {NODE}" in log, log
    finally:
        local_cluster.kubectl("uncordon", NODE)
