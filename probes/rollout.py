"""Rollout probe (Kubernetes): wait until a Deployment's new pods serve and are observed.

After a restart (chaostoolkit-kubernetes `terminate_pods` or `rollout_deployment`)
the Deployment's status still says "available" for a moment, old pods still
terminate, and Prometheus finds the new pods only at its next DNS refresh (up to
30 s). An experiment that injects its fault right then would hit old pools, or
raise alerts nobody sees. This probe waits for what `kubectl rollout status`
waits for (the controller saw the change; every replica updated and available),
for no pod to be terminating any more and as many to be ready as wanted, and
then until the pools Prometheus reads (the `pool` label is the pod name) are
those of new pods only, at least one. (Not all of them: a cluster DNS that
answers a headless Service with one address, as the local cluster's does, lets
Prometheus discover one pod.) The cluster is reached as chaostoolkit-kubernetes
reaches it (KUBECONFIG, KUBERNETES_CONTEXT, which `hubchaos run` exports),
Prometheus through `hubchaos_prometheus_url`.
"""

import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.arguments import as_positive_float
from hubchaos.activity.cluster_client import cluster_api_client
from hubchaos.activity.errors import failed
from hubchaos.polling import poll_until
from hubchaos.probes.prometheus import promql_instant

__all__ = ["wait_for_fresh_replicas"]

POLL_INTERVAL_S = 1.0
REQUEST_TIMEOUT_S = 10.0
# the metric every replica's pool exports from its first scrape (its configured max)
POOL_METRIC = "db_client_connection_max"


def wait_for_fresh_replicas(
    name: str = "learninghub",
    ns: str = "hubchaos",
    timeout_seconds: float = 120.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Wait until Deployment `name` in `ns` has rolled out and Prometheus scrapes its new pods.

    Returns ``{"deployment", "pods" (the new pods' names), "scraped" (the pools
    Prometheus reads), "rolled_out_seconds", "seconds" (until then)}``. Raises ActivityFailed
    naming the Deployment when either does not happen within `timeout_seconds`
    or the cluster cannot be reached.
    """
    wait_s = as_positive_float("timeout_seconds", timeout_seconds, 900.0)
    target = f"deployment {ns}/{name}"
    apps, core = _clients(target, secrets)
    started = time.monotonic()
    rolled = poll_until(
        lambda _left: _rolled_out(apps, core, name, ns, target),
        wait_s,
        POLL_INTERVAL_S,
        done=lambda pods: pods is not None,
    )
    if not rolled.held or not rolled.value:
        raise ActivityFailed(f"{target}: not rolled out within {wait_s:g}s")
    rolled_s = time.monotonic() - started
    pods = rolled.value
    query = f"count by (pool) ({POOL_METRIC})"
    left_s = max(POLL_INTERVAL_S, wait_s - rolled_s)
    scraped = poll_until(
        lambda left: _scraped_pools(query, left, configuration),
        left_s,
        POLL_INTERVAL_S,
        done=lambda pools: bool(pools) and set(pools) <= set(pods),
    )
    if not scraped.held:
        raise ActivityFailed(
            f"{target}: Prometheus did not scrape the pools of {', '.join(pods)} (and only "
            f"theirs) within {wait_s:g}s; it reads {', '.join(scraped.value or []) or 'none'}"
        )
    return {
        "deployment": f"{ns}/{name}",
        "pods": pods,
        "scraped": scraped.value,
        "rolled_out_seconds": round(rolled_s, 3),
        "seconds": round(time.monotonic() - started, 3),
    }


def _scraped_pools(query: str, left_s: float, configuration: Configuration) -> list[str]:
    timeout_s = min(REQUEST_TIMEOUT_S, max(left_s, 1.0))
    measured = promql_instant(query, True, timeout_s, configuration)
    return sorted(str(series["labels"].get("pool", "")) for series in measured["series"])


def _clients(target: str, secrets: Secrets) -> tuple[Any, Any]:
    # the cluster chaostoolkit-kubernetes' activities reach (hubchaos/activity/cluster_client.py)
    from kubernetes import client

    try:
        api = cluster_api_client(secrets)
    except Exception as exc:  # a kubeconfig that cannot be read, an unknown context
        raise failed(f"{target}: no Kubernetes client", exc) from None
    return client.AppsV1Api(api), client.CoreV1Api(api)


def _rolled_out(apps: Any, core: Any, name: str, ns: str, target: str) -> list[str] | None:
    """The new pods' names once the Deployment has rolled out, else None.

    What `kubectl rollout status` checks, and on the pods themselves: none is
    terminating any more (a deleted pod's replacement exists by then), and as
    many as the Deployment wants are ready.
    """
    deployment = _call(target, apps.read_namespaced_deployment, name, ns)
    status, wanted = deployment.status, deployment.spec.replicas or 0
    if not (
        (status.observed_generation or 0) >= (deployment.metadata.generation or 0)
        and (status.updated_replicas or 0) == wanted
        and (status.replicas or 0) == wanted  # no old ReplicaSet's pod left
        and (status.available_replicas or 0) == wanted
    ):
        return None
    labels = deployment.spec.selector.match_labels or {}
    selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
    pods = _call(target, core.list_namespaced_pod, ns, label_selector=selector).items
    if any(pod.metadata.deletion_timestamp is not None for pod in pods):
        return None
    ready = sorted(pod.metadata.name for pod in pods if _ready(pod))
    return ready if len(ready) == wanted else None


def _ready(pod: Any) -> bool:
    conditions = (pod.status and pod.status.conditions) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _call(target: str, method: Any, *args: Any, **kwargs: Any) -> Any:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        return method(*args, _request_timeout=REQUEST_TIMEOUT_S, **kwargs)
    except ApiException as exc:
        raise ActivityFailed(f"{target}: the cluster answered {exc.status} {exc.reason}") from None
    except HTTPError as exc:
        raise failed(f"{target}: the cluster is unreachable", exc) from None
