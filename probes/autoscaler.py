"""Autoscaler probes on Kubernetes: the ceiling a storm is sized from, and the pods it got.

`autoscaler_ceiling` returns a plain number, for an experiment's dynamic
configuration (a `configuration` entry of `type: probe`): the storm's replica
counts come from the HorizontalPodAutoscaler the overlay deployed, never from a
constant that drifts from the manifests. `wait_for_replicas` reports how far a
scale got; it never fails for pods that do not become ready (that is what the
experiment observes), only when the API cannot be read.

The cluster is the one chaostoolkit-kubernetes reaches ($KUBECONFIG, else
~/.kube/config; context $KUBERNETES_CONTEXT, else the current one).
"""

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.arguments import as_float, as_int, as_positive_float
from hubchaos.activity.autoscaler import (
    ScaleState,
    ScaleTarget,
    kube_client,
    read_ceiling,
    read_state,
    unschedulable_pods,
)
from hubchaos.polling import poll_until

__all__ = ["autoscaler_ceiling", "scale_state", "wait_for_replicas"]


def autoscaler_ceiling(
    beyond: int = 0,
    autoscaler: str = "learninghub",
    ns: str = "hubchaos",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> int:
    """The autoscaler's maxReplicas plus `beyond` (0: the ceiling itself)."""
    extra = as_int("beyond", beyond, 0)
    # the Deployment is not read: only the autoscaler's own name matters here
    target = ScaleTarget.from_environment(str(ns), str(autoscaler), str(autoscaler))
    ceiling = read_ceiling(kube_client(target), target)
    if ceiling is None:
        raise ActivityFailed(
            f"autoscaler {target.namespace}/{target.autoscaler}: not found "
            "(the storm is sized from its maxReplicas)"
        )
    return ceiling + extra


def scale_state(
    name: str = "learninghub",
    autoscaler: str = "learninghub",
    ns: str = "hubchaos",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """The Deployment's replicas, pods and ready pods, and its autoscaler's range
    (`min_replicas`/`max_replicas` None when it has no autoscaler)."""
    target = ScaleTarget.from_environment(str(ns), str(name), str(autoscaler))
    return _describe(target, read_state(kube_client(target), target))


def wait_for_replicas(
    replicas: int,
    name: str = "learninghub",
    autoscaler: str = "learninghub",
    ns: str = "hubchaos",
    timeout_seconds: float = 90.0,
    poll_interval: float = 1.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Wait until Deployment `name` has `replicas` pods and all of them are ready.

    Returns the last state (`replicas` as set, `pods`, `ready`), `wanted`,
    `all_ready`, the most pods and ready pods seen (`peak_pods`,
    `peak_ready`), the pods no node had room for (`unschedulable`) and the
    seconds it waited; `all_ready` false when `timeout_seconds` passed first.
    """
    wanted = as_int("replicas", replicas, 1)
    wait = as_float("timeout_seconds", timeout_seconds, 0.0)
    interval = as_positive_float("poll_interval", poll_interval, 60)
    target = ScaleTarget.from_environment(str(ns), str(name), str(autoscaler))
    api = kube_client(target)
    peaks = {"pods": 0, "ready": 0}

    def look(_left: float) -> ScaleState:
        state = read_state(api, target)
        peaks["pods"] = max(peaks["pods"], state.pods)
        peaks["ready"] = max(peaks["ready"], state.ready)
        return state

    polled = poll_until(look, wait, interval, done=lambda s: s.pods >= wanted and s.ready >= wanted)
    assert polled.value is not None  # read_state raises rather than return nothing
    return {
        **_describe(target, polled.value),
        "wanted": wanted,
        "all_ready": polled.held,
        "peak_pods": peaks["pods"],
        "peak_ready": peaks["ready"],
        "unschedulable": unschedulable_pods(api, target, polled.value),
        "seconds": round(polled.seconds, 3),
    }


def _describe(target: ScaleTarget, state: ScaleState) -> dict[str, Any]:
    return {
        "deployment": f"{target.namespace}/{target.deployment}",
        "replicas": state.replicas,
        "pods": state.pods,
        "ready": state.ready,
        "min_replicas": state.min_replicas,
        "max_replicas": state.max_replicas,
    }
