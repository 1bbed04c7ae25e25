"""Waiting until the hub's workloads are ready, with a progress line as each one is.

A pod that can never start (an image the cluster cannot pull, a crash loop) is
named with its reason instead of waiting out the deadline.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from hubchaos.errors import StackError
from hubchaos.polling import poll_until
from hubchaos.stack.kubernetes.manifests import HubObjects

__all__ = ["ROLLOUT_DEADLINE_S", "hopeless_pod", "wait_rollouts", "workload_ready"]

ROLLOUT_DEADLINE_S = 300.0
DEADLINE_ENV = "HUBCHAOS_K8S_ROLLOUT_TIMEOUT"  # seconds, to wait longer (or shorter)
_HOPELESS = {"ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName",
             "CrashLoopBackOff"}  # fmt: skip
# (CreateContainerConfigError is not: the kubelet retries once the ConfigMap exists.)


def workload_ready(obj: Any) -> bool:
    """A Deployment/StatefulSet with every replica updated and ready; a Job that succeeded."""
    if obj is None:
        return False
    status = obj.status or {}
    if obj.kind == "Job":
        return bool(status.get("succeeded"))
    wanted = obj.spec.replicas if obj.spec.replicas is not None else 1
    ready = status.get("readyReplicas") or 0
    updated = status.get("updatedReplicas") or 0
    return bool(ready >= wanted and updated >= wanted)


def hopeless_pod(pods: list[Any]) -> str | None:
    """'pod: reason (message)' for a pod that will not become ready by waiting."""
    for pod in pods:
        statuses = (pod.status or {}).get("containerStatuses") or []
        statuses += (pod.status or {}).get("initContainerStatuses") or []
        for status in statuses:
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in _HOPELESS:
                message = str(waiting.get("message", ""))[:160]
                return f"pod {pod.metadata.name}: {waiting['reason']} ({message})"
    return None


def wait_rollouts(
    hub: HubObjects,
    workloads: list[dict[str, Any]],
    progress: Callable[[str], None],
    deadline_s: float | None = None,
) -> float:
    """Wait until every workload is ready; the seconds it took."""
    if deadline_s is None:
        deadline_s = float(os.environ.get(DEADLINE_ENV) or ROLLOUT_DEADLINE_S)
    started = time.monotonic()
    pending = {(w["apiVersion"], w["kind"], w["metadata"]["name"]) for w in workloads}
    last_note = 0.0

    def still_pending(_left: float) -> set[tuple[str, str, str]]:
        for key in sorted(pending):
            if workload_ready(hub.get(*key)):
                pending.discard(key)
                progress(f"  {key[1].lower()}/{key[2]} ready ({time.monotonic() - started:.0f} s)")
        if pending:
            stuck = hopeless_pod(hub.pods())
            if stuck:
                raise StackError("kubernetes", f"{stuck}: load the image or fix the pod")
        return pending

    def note(_pending: set[tuple[str, str, str]]) -> None:
        nonlocal last_note
        elapsed = time.monotonic() - started
        if elapsed - last_note >= 10:
            last_note = elapsed
            waiting = ", ".join(name for _, _, name in sorted(pending))
            progress(f"  waiting for {waiting} ({elapsed:.0f} s)")

    polled = poll_until(
        still_pending, deadline_s, 1.0, done=lambda left: not left, look_at_deadline=True,
        on_wait=note,
    )  # fmt: skip
    if not polled.held:
        names = ", ".join(f"{kind.lower()}/{name}" for _, kind, name in sorted(pending))
        raise StackError("kubernetes", f"not ready after {deadline_s:.0f} s: {names} "
                         f"(kubectl -n {hub.namespace} describe pods)")  # fmt: skip
    return time.monotonic() - started
