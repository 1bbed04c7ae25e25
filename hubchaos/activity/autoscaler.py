"""A Deployment's replica count and its HorizontalPodAutoscaler's ceiling on Kubernetes.

Shared by the autoscaler actions and probes and by the fault ledger's undo,
which runs in the dead man's switch without chaoslib: so the cluster is named
by a kubeconfig path and a context (empty: $KUBECONFIG, then ~/.kube/config,
and its current context, the same rules chaostoolkit-kubernetes follows), and
every API call carries a timeout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from chaoslib.exceptions import ActivityFailed

__all__ = [
    "API_TIMEOUT_S",
    "KubernetesApiFailed",
    "ScaleState",
    "ScaleTarget",
    "kube_client",
    "read_ceiling",
    "read_state",
    "restore",
    "set_ceiling",
    "set_replicas",
    "unschedulable_pods",
]

API_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ScaleTarget:
    """Which Deployment and HorizontalPodAutoscaler, on which cluster."""

    namespace: str
    deployment: str
    autoscaler: str
    kubeconfig: str = ""  # "" = $KUBECONFIG, then ~/.kube/config
    context: str = ""  # "" = the kubeconfig's current context

    @classmethod
    def from_environment(cls, namespace: str, deployment: str, autoscaler: str) -> ScaleTarget:
        """The cluster chaostoolkit-kubernetes would reach, pinned down for a later undo."""
        paths = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
        kubeconfig = os.path.abspath(os.path.expanduser(paths[0])) if paths else ""
        context = os.environ.get("KUBERNETES_CONTEXT", "")
        return cls(namespace, deployment, autoscaler, kubeconfig, context)

    def describe(self) -> str:
        return f"deployment {self.namespace}/{self.deployment}"


@dataclass(frozen=True)
class ScaleState:
    replicas: int  # the Deployment's spec.replicas
    pods: int  # pods the Deployment has now (status.replicas), ready or not
    ready: int  # status.readyReplicas
    min_replicas: int | None  # the autoscaler's range; None without one
    max_replicas: int | None
    selector: str = ""  # the Deployment's pods, as a label selector


def kube_client(target: ScaleTarget) -> Any:
    """An API client for the target's cluster (kubernetes.client.ApiClient)."""
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    try:
        return config.new_client_from_config(
            config_file=target.kubeconfig or None, context=target.context or None
        )
    except (ConfigException, OSError, ValueError) as exc:
        where = target.kubeconfig or "the default kubeconfig"
        raise ActivityFailed(f"{target.describe()}: {where} is unusable: {exc}") from None


def read_state(api: Any, target: ScaleTarget) -> ScaleState:
    """The Deployment's replicas and pods, and its autoscaler's range."""
    from kubernetes import client

    try:
        deployment = client.AppsV1Api(api).read_namespaced_deployment(
            target.deployment, target.namespace, _request_timeout=API_TIMEOUT_S
        )
    except client.ApiException as exc:
        raise _failed(target.describe(), exc) from None
    status = deployment.status or client.V1DeploymentStatus()  # none before the first sync
    autoscaler = _read_autoscaler(api, target)
    return ScaleState(
        replicas=int(deployment.spec.replicas or 0),
        pods=int(status.replicas or 0),
        ready=int(status.ready_replicas or 0),
        min_replicas=None if autoscaler is None else int(autoscaler.spec.min_replicas or 1),
        max_replicas=None if autoscaler is None else int(autoscaler.spec.max_replicas),
        selector=",".join(
            f"{key}={value}"
            for key, value in sorted((deployment.spec.selector.match_labels or {}).items())
        ),
    )


def unschedulable_pods(api: Any, target: ScaleTarget, state: ScaleState) -> int:
    """The Deployment's pods the scheduler found no node for (no CPU or memory left, say)."""
    from kubernetes import client

    if not state.selector:
        return 0
    try:
        pods = client.CoreV1Api(api).list_namespaced_pod(
            target.namespace, label_selector=state.selector, _request_timeout=API_TIMEOUT_S
        )
    except client.ApiException as exc:
        raise _failed(f"pods of {target.describe()}", exc) from None
    return len([pod for pod in pods.items if _unschedulable(pod)])


def _unschedulable(pod: Any) -> bool:
    conditions = (pod.status.conditions if pod.status else None) or []
    return any(
        condition.type == "PodScheduled"
        and condition.status == "False"
        and condition.reason == "Unschedulable"
        for condition in conditions
    )


def read_ceiling(api: Any, target: ScaleTarget) -> int | None:
    """The autoscaler's maxReplicas (None: there is no such autoscaler)."""
    autoscaler = _read_autoscaler(api, target)
    return None if autoscaler is None else int(autoscaler.spec.max_replicas)


def set_ceiling(api: Any, target: ScaleTarget, max_replicas: int) -> None:
    """Patch the autoscaler's maxReplicas."""
    from kubernetes import client

    try:
        client.AutoscalingV1Api(api).patch_namespaced_horizontal_pod_autoscaler(
            target.autoscaler,
            target.namespace,
            {"spec": {"maxReplicas": max_replicas}},
            _request_timeout=API_TIMEOUT_S,
        )
    except client.ApiException as exc:
        where = f"autoscaler {target.namespace}/{target.autoscaler}"
        raise _failed(where, exc) from None


def set_replicas(api: Any, target: ScaleTarget, replicas: int) -> None:
    """Scale the Deployment (its scale subresource, as an autoscaler does)."""
    from kubernetes import client

    try:
        client.AppsV1Api(api).patch_namespaced_deployment_scale(
            target.deployment,
            target.namespace,
            {"spec": {"replicas": replicas}},
            _request_timeout=API_TIMEOUT_S,
        )
    except client.ApiException as exc:
        raise _failed(target.describe(), exc) from None


def restore(undo: dict[str, Any]) -> None:
    """Put the replica count, then the autoscaler's ceiling, back (the ledger's undo data).

    Idempotent; a namespace or Deployment that is gone has nothing left to restore.
    """
    target = ScaleTarget(
        namespace=str(undo["namespace"]),
        deployment=str(undo["deployment"]),
        autoscaler=str(undo["autoscaler"]),
        kubeconfig=str(undo.get("kubeconfig", "")),
        context=str(undo.get("context", "")),
    )
    api = kube_client(target)
    try:
        set_replicas(api, target, int(undo["replicas"]))
        if undo.get("max_replicas") is not None:
            set_ceiling(api, target, int(undo["max_replicas"]))
    except KubernetesApiFailed as exc:
        if exc.status != 404:
            raise


def _read_autoscaler(api: Any, target: ScaleTarget) -> Any:
    from kubernetes import client

    try:
        return client.AutoscalingV1Api(api).read_namespaced_horizontal_pod_autoscaler(
            target.autoscaler, target.namespace, _request_timeout=API_TIMEOUT_S
        )
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise _failed(f"autoscaler {target.namespace}/{target.autoscaler}", exc) from None


class KubernetesApiFailed(ActivityFailed):
    """The API refused a call; `status` is its HTTP status (0 when none came back)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _failed(where: str, exc: Any) -> KubernetesApiFailed:
    status = int(getattr(exc, "status", 0) or 0)
    reason = f"{status} {exc.reason}" if status else str(exc)
    return KubernetesApiFailed(f"{where}: the Kubernetes API answered {reason}", status)
