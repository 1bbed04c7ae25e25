"""Evict pods through the Eviction API, as `kubectl drain` does, but only the
pods a selector names in one namespace.

chaostoolkit-kubernetes' `drain_nodes` evicts every pod on the node, in every
namespace (its `pod_label_selector`/`pod_namespace` only pick the node). On a
node that other teams share, a node-maintenance experiment must disturb the
hub alone: cordon the node with chaosk8s' `cordon_node`, then evict the hub's
pods here. An eviction, unlike a plain delete, honours the PodDisruptionBudgets
a cluster has; a refusal (HTTP 429) is retried, as a drain retries, until
`timeout_seconds`. Evicted pods are replaced by their Deployment, so there is
nothing to undo; the cordon is undone by `uncordon_node` in the rollbacks.
"""

from __future__ import annotations

import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.arguments import as_int, as_positive_float
from hubchaos.activity.cluster_client import cluster_api_client
from hubchaos.polling import poll_until

__all__ = ["evict_pods"]

REQUEST_TIMEOUT_S = 10.0
RETRY_INTERVAL_S = 1.0


def evict_pods(
    label_selector: str,
    ns: str = "default",
    qty: int = 1,
    node: str = "",
    timeout_seconds: float = 30.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Evict `qty` running pods matching `label_selector` in namespace `ns`.

    Only pods on `node` when it is given (the node being drained), in name
    order, skipping pods already being deleted. Returns the evicted pod names,
    the node and how many eviction requests a disruption budget refused before
    it allowed them. Raises ActivityFailed when fewer than `qty` pods match or
    a budget still refuses after `timeout_seconds`.
    """
    from kubernetes import client

    count = as_int("qty", qty, minimum=1)
    deadline = time.monotonic() + as_positive_float("timeout_seconds", timeout_seconds)
    target = f"pods {label_selector!r} in namespace {ns}" + (f" on node {node}" if node else "")
    core = client.CoreV1Api(cluster_api_client(secrets))
    try:
        pods: list[Any] = core.list_namespaced_pod(
            ns,
            label_selector=label_selector,
            field_selector=f"spec.nodeName={node}" if node else None,
            _request_timeout=REQUEST_TIMEOUT_S,
        ).items
    except Exception as exc:
        raise ActivityFailed(f"listing {target}: {_cause(exc)}") from None
    running = sorted(
        (p for p in pods if p.status.phase == "Running" and p.metadata.deletion_timestamp is None),
        key=lambda p: p.metadata.name,
    )
    if len(running) < count:
        raise ActivityFailed(f"evicting {target}: {len(running)} running, {count} asked for")
    evicted, refused = [], 0
    for pod in running[:count]:
        refused += _evict(core, pod.metadata.name, ns, deadline)
        evicted.append(pod.metadata.name)
    return {"evicted": evicted, "namespace": ns, "node": node, "refused_by_budget": refused}


def _evict(core: Any, name: str, ns: str, deadline: float) -> int:
    """One eviction, retried while a disruption budget refuses it; returns the refusals."""
    from kubernetes import client

    body = client.V1Eviction(metadata=client.V1ObjectMeta(name=name, namespace=ns))
    refusals = 0

    def evicted(_left: float) -> bool:
        nonlocal refusals
        try:
            core.create_namespaced_pod_eviction(
                name, ns, body=body, _request_timeout=REQUEST_TIMEOUT_S
            )
            return True
        except client.ApiException as exc:
            if exc.status == 404:
                return True  # gone already: what an eviction wanted
            if exc.status != 429:
                raise ActivityFailed(f"evicting pod {name} in {ns}: {_cause(exc)}") from None
            refusals += 1  # 429: a PodDisruptionBudget says not now
            return False
        except Exception as exc:  # urllib3 connection errors, timeouts
            raise ActivityFailed(f"evicting pod {name} in {ns}: {_cause(exc)}") from None

    left = max(0.0, deadline - time.monotonic())
    if not poll_until(evicted, left, RETRY_INTERVAL_S, look_at_deadline=True).held:
        raise ActivityFailed(
            f"evicting pod {name} in {ns}: a PodDisruptionBudget still refuses "
            f"after {refusals} tries"
        )
    return refusals


def _cause(exc: Exception) -> str:
    status, reason = getattr(exc, "status", None), getattr(exc, "reason", None)
    if status is not None:
        return f"HTTP {status} {reason}"
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
