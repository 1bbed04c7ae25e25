"""Node probe: whether the scheduler may place new pods on a node.

chaostoolkit-kubernetes' `all_nodes_must_be_ready_to_schedule` reads the
node's Ready condition only, so it answers true for a cordoned node. A
cordon is `spec.unschedulable`; this probe reads that field (and the taints,
the other way a node refuses new pods), so an experiment can show the node
was really cordoned during the run and schedulable again after it.
"""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.cluster_client import cluster_api_client

__all__ = ["node_schedulable"]

REQUEST_TIMEOUT_S = 10.0


def node_schedulable(
    name: str = "localhost",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Whether node `name` takes new pods: not cordoned and no NoSchedule taint.

    Returns `schedulable` (what a tolerance checks), `unschedulable` (the
    cordon, `spec.unschedulable`) and the node's NoSchedule/NoExecute taints.
    Raises ActivityFailed when the node cannot be read.
    """
    from kubernetes import client

    try:
        node: Any = client.CoreV1Api(cluster_api_client(secrets)).read_node(
            name, _request_timeout=REQUEST_TIMEOUT_S
        )
    except client.ApiException as exc:
        raise ActivityFailed(f"node {name}: HTTP {exc.status} {exc.reason}") from None
    except Exception as exc:  # urllib3 connection errors, timeouts, a missing kubeconfig
        cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ActivityFailed(f"node {name}: {cause}") from None
    cordoned = bool(node.spec.unschedulable)
    taints = [
        f"{t.key}:{t.effect}"
        for t in node.spec.taints or []
        if t.effect in ("NoSchedule", "NoExecute")
    ]
    return {
        "node": name,
        "schedulable": not cordoned and not taints,
        "unschedulable": cordoned,
        "taints": taints,
    }
