"""Autoscaler actions on Kubernetes: lift a HorizontalPodAutoscaler's ceiling, put it back.

A hurried human who wants more pods than the autoscaler allows raises its
maxReplicas and scales the Deployment (chaostoolkit-kubernetes
`scale_deployment`); without the raise, the autoscaler would take the extra
pods away again within its sync period (15 s by default). `lift_autoscaler_ceiling`
records in the fault ledger, before it patches anything, the ceiling AND the
Deployment's replica count it found: `restore_autoscaler` (the rollback), the
dead man's switch and `hubchaos recover` put both back, so the scale actions
that follow need no undo of their own.

The cluster is the one chaostoolkit-kubernetes reaches ($KUBECONFIG, else
~/.kube/config; context $KUBERNETES_CONTEXT, else the current one).
"""

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos import ledger as fault_ledger
from hubchaos.activity.arguments import as_int
from hubchaos.activity.autoscaler import (
    ScaleTarget,
    kube_client,
    read_state,
    restore,
    set_ceiling,
)

__all__ = ["lift_autoscaler_ceiling", "restore_autoscaler"]

UNDO = "kubernetes.scale"
# Blast radius: a typo (700 for 7) must not schedule hundreds of pods.
MAX_CEILING = 50


def lift_autoscaler_ceiling(
    max_replicas: int,
    name: str = "learninghub",
    autoscaler: str = "learninghub",
    ns: str = "hubchaos",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Raise the maxReplicas of the autoscaler of Deployment `name` to `max_replicas`.

    Records the ceiling and the Deployment's replica count first (the undo).
    Refuses a ceiling below the current one or above 50. Returns the
    autoscaler, the ceiling before and after, and the replicas before.
    """
    wanted = as_int("max_replicas", max_replicas, 1, MAX_CEILING)
    target = ScaleTarget.from_environment(str(ns), str(name), str(autoscaler))
    api = kube_client(target)
    before = read_state(api, target)
    where = f"autoscaler {target.namespace}/{target.autoscaler}"
    if before.max_replicas is None:
        raise ActivityFailed(f"{where}: not found, so there is no ceiling to lift")
    if wanted < before.max_replicas:
        raise ActivityFailed(
            f"{where}: max_replicas {wanted} is below its ceiling {before.max_replicas}"
        )
    undo = {
        "action": UNDO,
        "namespace": target.namespace,
        "deployment": target.deployment,
        "autoscaler": target.autoscaler,
        "kubeconfig": target.kubeconfig,
        "context": target.context,
        "replicas": before.replicas,
        "max_replicas": before.max_replicas,
    }
    entry = fault_ledger.record(
        "kubernetes:autoscaler-ceiling",
        f"{where}: maxReplicas {before.max_replicas} -> {wanted}",
        undo,
        configuration,
    )
    try:
        set_ceiling(api, target, wanted)
    except ActivityFailed:
        fault_ledger.settle(entry, configuration)  # nothing changed
        raise
    return {
        "autoscaler": f"{target.namespace}/{target.autoscaler}",
        "deployment": f"{target.namespace}/{target.deployment}",
        "max_replicas_before": before.max_replicas,
        "max_replicas": wanted,
        "replicas_before": before.replicas,
    }


def restore_autoscaler(
    name: str = "learninghub",
    ns: str = "hubchaos",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Put back the replica count and autoscaler ceiling Deployment `name` had
    before this run lifted the ceiling (the first lift's record wins).

    For rollbacks: does nothing when this process lifted nothing. Returns
    what was restored (`restored`: false when nothing had to be).
    """
    mine = [
        entry
        for entry in fault_ledger.mine(configuration)
        if entry.undo.get("action") == UNDO
        and entry.undo.get("namespace") == str(ns)
        and entry.undo.get("deployment") == str(name)
    ]
    deployment = f"{ns}/{name}"
    if not mine:
        return {"deployment": deployment, "restored": False}
    first = mine[0].undo
    restore(first)
    for entry in mine:
        fault_ledger.settle(entry, configuration)
    return {
        "deployment": deployment,
        "restored": True,
        "replicas": first["replicas"],
        "max_replicas": first["max_replicas"],
    }
