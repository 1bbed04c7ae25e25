"""Load beyond one machine: the HTTP spike, run by N pods of a Kubernetes Job in the stack's
namespace against the in-cluster hub_web Service (pod to pod, never through the host).

The Job is recorded in the fault ledger before it is created, with its deletion
as the undo, so the safety control, `hubchaos recover` and the dead man's switch
remove it and its pods however the run ends. It is also bounded on its own:
every pod's load stops after its request budget or duration, and
`activeDeadlineSeconds` stops the Job. The action is a flood like the local
ones: it can run in the background and `stop_floods` ends it early.
"""

import asyncio
import time
import uuid
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos import ledger as fault_ledger
from hubchaos.actions import _flood_registry
from hubchaos.activity.arguments import as_float, as_int, as_positive_float
from hubchaos.activity.errors import failed
from hubchaos.activity.settings import setting
from hubchaos.errors import HubchaosError
from hubchaos.ledger import history as fault_history
from hubchaos.ledger.owner import Owner
from hubchaos.ledger.undo import undo_delete_job
from hubchaos.stack.kubernetes.connection import CONNECT_TIMEOUT_S, connect
from hubchaos.stack.kubernetes.jobs import Jobs, JobStatus
from hubchaos.traffic.cluster_job import (
    CONTAINER,
    MAX_CLUSTER_FLOOD_SECONDS,
    MAX_CONCURRENCY_PER_POD,
    MAX_PARALLELISM,
    FloodJob,
    pod_result,
    summarise,
    valid_service_name,
)
from hubchaos.traffic.http_load import load_plan
from hubchaos.traffic.pod_flood import pod_arguments

__all__ = ["cluster_http_spike"]

MAX_REQUESTS_PER_POD = 100_000_000
POLL_S = 1.0
REMOVE_WAIT_S = 60.0
KIND = "cluster_http"


def _namespace(namespace: str, configuration: Configuration | None) -> str:
    chosen = namespace or setting("hubchaos_k8s_namespace", configuration, "")
    if not chosen:
        raise ActivityFailed(
            "cluster flood: no namespace: pass namespace or run against a stack of "
            "`hubchaos up --env kubernetes` (HUBCHAOS_K8S_NAMESPACE)"
        )
    return chosen


def _hub_image(apps: Any, namespace: str) -> str:
    """The image the hub's app runs: it holds hubchaos.traffic, which each pod needs."""
    deployment = apps.read_namespaced_deployment(
        "learninghub", namespace, _request_timeout=CONNECT_TIMEOUT_S
    )
    return str(deployment.spec.template.spec.containers[0].image)


def _check_service(core: Any, namespace: str, service: str, port: int) -> None:
    found = core.read_namespaced_service(service, namespace, _request_timeout=CONNECT_TIMEOUT_S)
    ports = [item.port for item in found.spec.ports or []]
    if port not in ports:
        raise ActivityFailed(
            f"cluster flood: Service {service} in namespace {namespace} has no port {port} "
            f"(it has {', '.join(map(str, ports)) or 'none'})"
        )


async def _watch(jobs: Jobs, job: FloodJob, stop: asyncio.Event) -> JobStatus:
    """Job status until it finished or the flood is told to stop."""
    while True:
        status = await asyncio.to_thread(jobs.status, job.name, job.selector)
        if status.finished or stop.is_set():
            return status
        try:
            await asyncio.wait_for(stop.wait(), POLL_S)
        except TimeoutError:
            continue


def _pod_reports(jobs: Jobs, job: FloodJob) -> list[dict[str, Any]]:
    phases = jobs.pod_phases(job.selector)
    return [
        {"pod": pod, "phase": phase, "result": pod_result(jobs.log(pod, CONTAINER))}
        for pod, phase in sorted(phases.items())
    ]


def _remove(jobs: Jobs, job: FloodJob, undo: dict[str, Any], configuration: Any) -> list[str]:
    """Delete the Job and its pods; if that fails, keep it in the ledger for recover."""
    try:
        return jobs.remove(job.name, job.selector, REMOVE_WAIT_S)
    except Exception as exc:  # run_flood settles its entry: a new one keeps the undo
        fault_ledger.record(f"flood:{KIND}", f"job/{job.name}", undo, configuration, note=False)
        raise failed(f"cluster flood Job {job.name} in namespace {job.namespace}", exc) from exc


def cluster_http_spike(
    parallelism: int = 3,
    concurrency: int = 20,
    duration_seconds: float = 20.0,
    routes: list | None = None,
    service: str = "toxiproxy",
    port: int = 18000,
    timeout: float = 5.0,
    max_requests: int = 100_000,
    fast_503_ms: float = 1000.0,
    namespace: str = "",
    image: str = "",
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
) -> dict:
    """Spike HTTP traffic from `parallelism` pods of a Kubernetes Job in the stack's namespace.

    Each pod runs the `http_spike` load (`concurrency` keep-alive connections,
    at most `max_requests` requests, `duration_seconds`, `timeout` per request)
    against Service `service` port `port` of the same namespace (default the
    hub_web port of the fault proxy), pod to pod on the cluster network.
    `namespace` defaults to configuration `hubchaos_k8s_namespace` (env
    HUBCHAOS_K8S_NAMESPACE, written by `hubchaos up --env kubernetes`); the
    cluster is the one of KUBECONFIG and HUBCHAOS_K8S_CONTEXT; `image` defaults
    to the learninghub Deployment's image. The Job (parallelism = completions,
    backoffLimit 0, activeDeadlineSeconds = duration + timeout + start-up
    margin) is in the fault ledger before it exists and is deleted with its
    pods when it finishes, on `stop_floods`, by the safety control or by
    `hubchaos recover`.

    Returns the Job's name, condition and reason, pods succeeded and failed,
    and what the pods measured: requests, status counts, errors by kind,
    error_rate, requests_per_second and one line per pod.
    """
    pods = as_int("parallelism", parallelism, 1, MAX_PARALLELISM)
    per_pod = as_int("concurrency", concurrency, 1, MAX_CONCURRENCY_PER_POD)
    seconds = as_positive_float("duration_seconds", duration_seconds, MAX_CLUSTER_FLOOD_SECONDS)
    budget = as_int("max_requests", max_requests, 1, MAX_REQUESTS_PER_POD)
    request_timeout = as_positive_float("timeout", timeout, 300.0)
    fast_ms = as_float("fast_503_ms", fast_503_ms, 0.0, 300_000.0)
    target_port = as_int("port", port, 1, 65535)
    if not valid_service_name(str(service)):
        raise ActivityFailed(
            f"argument service must be the name of a Service in the stack's namespace "
            f"(no dots), got {service!r}"
        )
    arguments = pod_arguments(
        str(service), target_port, routes, per_pod, seconds, budget, request_timeout, fast_ms
    )
    # The same checks the pods make (routes, headers), before anything is created.
    load_plan(arguments["url"], routes, per_pod, seconds, budget, request_timeout, fast_ms,
              {"hubchaos_allowed_hosts": str(service)})  # fmt: skip
    ns = _namespace(namespace, configuration)
    target = f"{ns}/svc/{service}:{target_port}"
    try:
        from kubernetes import client

        connection = connect(
            setting("kubeconfig", configuration, "") or None,
            setting("hubchaos_k8s_context", configuration, "") or None,
        )
        _check_service(client.CoreV1Api(connection.api), ns, str(service), target_port)
        chosen_image = image or _hub_image(client.AppsV1Api(connection.api), ns)
    except ActivityFailed:
        raise
    except HubchaosError as exc:  # no kubeconfig, unknown context, unreachable cluster
        raise failed(f"cluster flood of {target}", exc) from exc
    except Exception as exc:  # ApiException (404: no such Service or Deployment), network
        raise failed(f"cluster flood of {target}", getattr(exc, "reason", None) or exc) from exc
    owner = Owner.me()
    job = FloodJob(
        name=f"hubchaos-flood-{owner.pid}-{uuid.uuid4().hex[:6]}",
        namespace=ns,
        image=chosen_image,
        run_id=f"{owner.pid}-{owner.start_ticks}",
        parallelism=pods,
        pod_arguments=arguments,
    )
    jobs = Jobs(connection.api, ns)
    undo = undo_delete_job(str(connection.kubeconfig), connection.context, ns, job.name,
                           job.selector)  # fmt: skip

    async def body(_handle: Any, stop: asyncio.Event) -> dict[str, Any]:
        started = time.monotonic()
        try:
            await asyncio.to_thread(jobs.create, job.manifest())
            status = await _watch(jobs, job, stop)
            reports = await asyncio.to_thread(_pod_reports, jobs, job)
        finally:  # created or not, half-created or finished: nothing of it stays
            removed = await asyncio.to_thread(_remove, jobs, job, undo, configuration)
        summary = summarise(reports)
        if not summary["pods_reported"] and not stop.is_set():
            phases = ", ".join(f"{r['pod']} {r['phase']}" for r in reports) or "no pod"
            raise ActivityFailed(
                f"cluster flood Job {job.name} in namespace {ns}: no pod reported a result "
                f"({status.condition or 'unfinished'} {status.reason}; {phases})"
            )
        return {
            "kind": KIND,
            "target": target,
            "job": job.name,
            "namespace": ns,
            "image": job.image,
            "run_id": job.run_id,
            "parallelism": pods,
            "concurrency_per_pod": per_pod,
            "active_deadline_seconds": job.deadline_seconds,
            "job_condition": status.condition or "stopped",
            "job_reason": status.reason,
            "pods_succeeded": status.succeeded,
            "pods_failed": status.failed,
            **summary,
            "pods_removed": len(removed),
            "duration_seconds": round(time.monotonic() - started, 3),
        }

    fault_history.note(f"flood:{KIND}", target)
    try:
        return _flood_registry.run_flood(
            KIND, target, job.deadline_seconds + REMOVE_WAIT_S, body, undo, configuration
        )
    except ActivityFailed:
        raise
    except Exception as exc:  # an unexpected failure is still reported against the target
        raise failed(f"cluster flood of {target}", exc) from exc
