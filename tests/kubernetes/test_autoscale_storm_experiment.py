"""experiments/kubernetes/autoscale-storm.yaml on the local cluster: it passes on `fixed`
and deviates on `incident`, through `hubchaos run`, with chaostoolkit-kubernetes scaling
learninghub to the overlay's maxReplicas and beyond; afterwards the Deployment has its
replica count back and the HorizontalPodAutoscaler is as the overlay deployed it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from hubchaos.budget.sources import overlay_case
from hubchaos.cluster.images import load_hub_images
from tests.kubernetes.conftest import REPO, LocalCluster
from tests.stack.conftest import free_port_offset, run_cli

pytestmark = [pytest.mark.kubernetes, pytest.mark.slow]

EXPERIMENT = REPO / "experiments" / "kubernetes" / "autoscale-storm.yaml"
OVERLAYS = REPO / "environments" / "kubernetes" / "overlays"


def _storm_beyond() -> int:
    """How far past the ceiling the experiment scales (its configuration's default)."""
    configuration = yaml.safe_load(EXPERIMENT.read_text())["configuration"]
    return int(configuration["storm_beyond"]["default"])


def _object(cluster: LocalCluster, namespace: str, kind: str) -> dict[str, Any]:
    got = cluster.kubectl("-n", namespace, "get", kind, "learninghub", "-o", "json")
    assert got.returncode == 0, got.stderr
    return dict(json.loads(got.stdout))


def _outputs(journal: dict[str, Any], section: str) -> dict[str, Any]:
    return {
        record["activity"]["name"]: record.get("output")
        for record in journal[section]
        if record["status"] == "succeeded"
    }


@pytest.mark.parametrize(("profile", "verdict"), [("fixed", 0), ("incident", 1)])
def test_autoscale_storm(
    local_cluster: LocalCluster, hub_namespace: str, tmp_path: Path, profile: str, verdict: int
) -> None:
    # The ceiling the overlay deploys, read from its manifests as `hubchaos budget` does.
    ceiling = overlay_case(OVERLAYS / profile).resolved.replicas
    storm = ceiling + _storm_beyond()
    load_hub_images(local_cluster.layout, lambda line: None)
    state = str(tmp_path / "state")
    offset = str(free_port_offset())
    # chaostoolkit-kubernetes reads KUBECONFIG when it loads, before hubchaos exports it.
    env = {**os.environ, "KUBECONFIG": str(local_cluster.kubeconfig)}
    env.pop("HUBCHAOS_STORM_BEYOND", None)
    up = run_cli("up", "--env", "kubernetes", "--offline", "--profile", profile,
                 "--kubeconfig", str(local_cluster.kubeconfig), "--namespace", hub_namespace,
                 "--state-dir", state,
                 "--port-offset", offset, cwd=REPO, env=env, timeout=400)  # fmt: skip
    try:
        assert up.returncode == 0, up.stderr[-3000:]
        autoscaler_before = _object(local_cluster, hub_namespace, "hpa")["spec"]
        replicas_before = _object(local_cluster, hub_namespace, "deployment")["spec"]["replicas"]
        assert autoscaler_before["maxReplicas"] == ceiling

        started = time.monotonic()
        run = run_cli("run", str(EXPERIMENT), "--state-dir", state, "--report",
                      str(tmp_path / "report"), cwd=REPO, env=env, timeout=400)  # fmt: skip
        print(f"hubchaos run autoscale-storm ({profile}): {time.monotonic() - started:.1f} s")
        assert run.returncode == verdict, run.stderr[-3000:]
        journal = json.loads((tmp_path / "report" / "autoscale-storm.journal.json").read_text())

        # The storm happened: the ceiling was lifted from the overlay's maxReplicas, and
        # the Deployment was scaled to it and past it (its pods created; whether they get
        # ready depends on the node's free CPU, which a shared cluster does not promise).
        method = _outputs(journal, "run")
        lifted = method["lift-the-autoscalers-ceiling"]
        assert (lifted["max_replicas_before"], lifted["max_replicas"]) == (ceiling, storm)
        assert lifted["replicas_before"] == replicas_before
        at_ceiling = method["learninghub-at-the-ceiling"]
        assert (at_ceiling["replicas"], at_ceiling["peak_pods"]) == (ceiling, ceiling)
        beyond = method["learninghub-beyond-the-ceiling"]
        assert (beyond["replicas"], beyond["peak_pods"]) == (storm, storm)
        assert beyond["peak_ready"] >= replicas_before
        assert 0 <= beyond["unschedulable"] <= storm - beyond["ready"]
        print(f"  ready at the ceiling {at_ceiling['ready']}/{ceiling}, beyond it "
              f"{beyond['ready']}/{storm} ({beyond['unschedulable']} found no node)")  # fmt: skip
        assert "scale-beyond-the-ceiling" in method

        rolled_back = _outputs(journal, "rollbacks")["restore-replicas-and-the-autoscalers-ceiling"]
        assert rolled_back["restored"] is True
        if verdict == 1:
            deviated = {
                probe["activity"]["name"]
                for probe in journal["steady_states"]["after"]["probes"]
                if not probe.get("tolerance_met")
            }
            assert deviated & {
                "another-client-can-log-in",
                "postgres-connections-stayed-inside-the-budget",
            }, deviated

        # ... and nothing of it is left: the replica count and the autoscaler as they were.
        assert _object(local_cluster, hub_namespace, "deployment")["spec"]["replicas"] == (
            replicas_before
        )
        assert _object(local_cluster, hub_namespace, "hpa")["spec"] == autoscaler_before
    finally:
        down = run_cli("down", "--state-dir", state, cwd=REPO, env=env, timeout=200)
    assert down.returncode == 0, down.stderr
