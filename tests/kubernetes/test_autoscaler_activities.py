"""hubchaos.actions.autoscaler and hubchaos.probes.autoscaler on the local cluster, with a
Deployment of pause pods (1m CPU each: they fit a node other tests crowd) and its
HorizontalPodAutoscaler: the ceiling read, lifted, put back by the rollback and by the
fault ledger's undo (the dead man's switch's path), and the waits reported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from hubchaos import ledger as fault_ledger
from hubchaos.actions.autoscaler import lift_autoscaler_ceiling, restore_autoscaler
from hubchaos.cluster.runtime import PAUSE_IMAGE
from hubchaos.ledger.undo import undo
from hubchaos.probes.autoscaler import autoscaler_ceiling, scale_state, wait_for_replicas
from tests.kubernetes.conftest import LocalCluster

pytestmark = [pytest.mark.kubernetes, pytest.mark.slow]

NAME = "sleepers"


def _manifests(namespace: str) -> list[dict[str, Any]]:
    labels = {"app.kubernetes.io/name": NAME}
    container = {
        "name": "pause",
        "image": PAUSE_IMAGE,
        "imagePullPolicy": "Never",
        "resources": {"requests": {"cpu": "1m", "memory": "4Mi"}},
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": NAME, "namespace": namespace},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [container], "terminationGracePeriodSeconds": 0},
                },
            },
        },
        {
            "apiVersion": "autoscaling/v1",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": NAME, "namespace": namespace},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME},
                "minReplicas": 1,
                "maxReplicas": 2,
                "targetCPUUtilizationPercentage": 70,
            },
        },
    ]


@pytest.fixture
def sleepers(
    local_cluster: LocalCluster,
    hub_namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """A namespace with the Deployment and its autoscaler; the activities' KUBECONFIG."""
    manifest = tmp_path / "sleepers.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                    "items": _manifests(hub_namespace)}))  # fmt: skip
    applied = local_cluster.kubectl("apply", "-f", str(manifest))
    assert applied.returncode == 0, applied.stderr
    monkeypatch.setenv("KUBECONFIG", str(local_cluster.kubeconfig))
    monkeypatch.delenv("KUBERNETES_CONTEXT", raising=False)
    try:
        yield hub_namespace
    finally:
        local_cluster.kubectl("delete", "namespace", hub_namespace, "--wait=false")


def _spec(cluster: LocalCluster, namespace: str, kind: str) -> dict[str, Any]:
    got = cluster.kubectl("-n", namespace, "get", kind, NAME, "-o", "json")
    assert got.returncode == 0, got.stderr
    return dict(json.loads(got.stdout)["spec"])


def test_the_ceiling_is_lifted_scaled_past_and_put_back(
    local_cluster: LocalCluster, sleepers: str, tmp_path: Path
) -> None:
    config = {"hubchaos_state_dir": str(tmp_path / "state")}
    names = {"name": NAME, "ns": sleepers}
    autoscaler_before = _spec(local_cluster, sleepers, "hpa")

    assert autoscaler_ceiling(autoscaler=NAME, ns=sleepers) == 2
    assert autoscaler_ceiling(beyond=3, autoscaler=NAME, ns=sleepers) == 5
    assert scale_state(autoscaler=NAME, **names)["max_replicas"] == 2

    lifted = lift_autoscaler_ceiling(4, autoscaler=NAME, configuration=config, **names)
    assert lifted["max_replicas_before"] == 2 and lifted["max_replicas"] == 4
    assert lifted["replicas_before"] == 1
    assert _spec(local_cluster, sleepers, "hpa")["maxReplicas"] == 4
    [entry] = fault_ledger.mine(config)
    assert entry.undo["replicas"] == 1 and entry.undo["max_replicas"] == 2
    with pytest.raises(ActivityFailed, match=rf"{sleepers}/{NAME}: max_replicas 3 is below"):
        lift_autoscaler_ceiling(3, autoscaler=NAME, configuration=config, **names)

    # Past the old ceiling: the autoscaler (now 4) leaves the pods alone.
    scaled = local_cluster.kubectl("-n", sleepers, "scale", "deployment", NAME, "--replicas=4")
    assert scaled.returncode == 0, scaled.stderr
    waited = wait_for_replicas(4, autoscaler=NAME, timeout_seconds=90, **names)
    assert waited["all_ready"] is True, waited
    assert (waited["replicas"], waited["pods"], waited["ready"]) == (4, 4, 4)
    assert waited["peak_ready"] == 4 and waited["max_replicas"] == 4
    assert waited["unschedulable"] == 0

    restored = restore_autoscaler(configuration=config, **names)
    assert restored == {
        "deployment": f"{sleepers}/{NAME}", "restored": True, "replicas": 1, "max_replicas": 2,
    }  # fmt: skip
    assert _spec(local_cluster, sleepers, "deployment")["replicas"] == 1
    assert _spec(local_cluster, sleepers, "hpa") == autoscaler_before
    assert fault_ledger.mine(config) == []
    assert restore_autoscaler(configuration=config, **names)["restored"] is False


def test_the_ledger_undo_restores_without_the_run(
    local_cluster: LocalCluster, sleepers: str, tmp_path: Path
) -> None:
    """What the dead man's switch and `hubchaos recover` run for a runner that died."""
    config = {"hubchaos_state_dir": str(tmp_path / "state")}
    names = {"name": NAME, "ns": sleepers}
    autoscaler_before = _spec(local_cluster, sleepers, "hpa")
    lift_autoscaler_ceiling(3, autoscaler=NAME, configuration=config, **names)
    local_cluster.kubectl("-n", sleepers, "scale", "deployment", NAME, "--replicas=3")
    [entry] = fault_ledger.mine(config)
    assert entry.kind == "kubernetes:autoscaler-ceiling"
    undo(entry.undo)
    undo(entry.undo)  # idempotent: the switch may retry
    fault_ledger.settle(entry, config)
    assert _spec(local_cluster, sleepers, "deployment")["replicas"] == 1
    assert _spec(local_cluster, sleepers, "hpa") == autoscaler_before


def test_missing_targets_and_unready_pods_are_reported(
    local_cluster: LocalCluster, sleepers: str
) -> None:
    with pytest.raises(ActivityFailed, match=rf"autoscaler {sleepers}/nobody: not found"):
        autoscaler_ceiling(autoscaler="nobody", ns=sleepers)
    with pytest.raises(ActivityFailed, match=rf"deployment {sleepers}/nobody: .*404"):
        scale_state(name="nobody", autoscaler=NAME, ns=sleepers)
    # More pods than the Deployment asks for never come: reported, not raised.
    short = wait_for_replicas(3, name=NAME, autoscaler=NAME, ns=sleepers, timeout_seconds=2)
    assert short["all_ready"] is False and short["wanted"] == 3
    assert short["replicas"] == 1 and short["seconds"] < 5


def test_pods_no_node_has_room_for_are_counted(local_cluster: LocalCluster, sleepers: str) -> None:
    """What tells a storm the node refused apart from pods that would not get ready."""
    huge = local_cluster.kubectl(
        "-n", sleepers, "patch", "deployment", NAME, "--type=json", "-p",
        '[{"op": "replace", "path": "/spec/template/spec/containers/0/resources/requests/cpu",'
        ' "value": "64"}]',
    )  # fmt: skip
    assert huge.returncode == 0, huge.stderr
    local_cluster.kubectl("-n", sleepers, "scale", "deployment", NAME, "--replicas=2")
    waited = wait_for_replicas(2, name=NAME, autoscaler=NAME, ns=sleepers, timeout_seconds=15)
    assert waited["all_ready"] is False
    assert waited["unschedulable"] >= 1, waited
