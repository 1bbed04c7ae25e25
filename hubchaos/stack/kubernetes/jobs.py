"""Jobs the runner starts in the stack's namespace (cluster floods): create, watch, remove.

Every call carries a timeout. Removing is idempotent (a Job or pod already gone
is removed) and does not trust the garbage collector alone: the Job is deleted
with propagation, then its pods by label, and the call returns once no pod of
the label is left, so "removed" means nothing of it runs any more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hubchaos.polling import poll_until

__all__ = ["API_TIMEOUT_S", "JobStatus", "Jobs"]

API_TIMEOUT_S = 10.0
GONE_POLL_S = 0.5


@dataclass(frozen=True)
class JobStatus:
    exists: bool
    active: int = 0
    succeeded: int = 0
    failed: int = 0
    condition: str = ""  # "Complete" or "Failed" once finished
    reason: str = ""  # e.g. DeadlineExceeded, BackoffLimitExceeded
    pod_phases: dict[str, str] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.condition in ("Complete", "Failed") or not self.exists


class Jobs:
    """The Jobs of one namespace, through an authorised client (connection.connect)."""

    def __init__(self, api: Any, namespace: str) -> None:
        from kubernetes import client

        self.namespace = namespace
        self.batch: Any = client.BatchV1Api(api)
        self.core: Any = client.CoreV1Api(api)
        self._api_exception = client.ApiException

    def create(self, manifest: dict[str, Any]) -> None:
        self.batch.create_namespaced_job(self.namespace, manifest, _request_timeout=API_TIMEOUT_S)

    def status(self, name: str, selector: str) -> JobStatus:
        try:
            job = self.batch.read_namespaced_job_status(
                name, self.namespace, _request_timeout=API_TIMEOUT_S
            )
        except self._api_exception as exc:
            if exc.status == 404:
                return JobStatus(exists=False, pod_phases=self.pod_phases(selector))
            raise
        status = job.status
        condition = reason = ""
        for item in status.conditions or []:
            if item.type in ("Complete", "Failed") and item.status == "True":
                condition, reason = item.type, item.reason or ""
        return JobStatus(
            exists=True,
            active=status.active or 0,
            succeeded=status.succeeded or 0,
            failed=status.failed or 0,
            condition=condition,
            reason=reason,
            pod_phases=self.pod_phases(selector),
        )

    def pod_phases(self, selector: str) -> dict[str, str]:
        pods = self.core.list_namespaced_pod(
            self.namespace, label_selector=selector, _request_timeout=API_TIMEOUT_S
        )
        return {pod.metadata.name: (pod.status.phase or "Unknown") for pod in pods.items}

    def log(self, pod: str, container: str) -> str:
        """The pod's log, or "" when it has none (never started, already gone)."""
        try:
            return str(
                self.core.read_namespaced_pod_log(
                    pod, self.namespace, container=container, _request_timeout=API_TIMEOUT_S
                )
            )
        except self._api_exception:
            return ""

    def remove(self, name: str, selector: str, wait_s: float) -> list[str]:
        """Delete the Job and its pods; wait until none is left. Returns the pods removed.

        Raises TimeoutError naming the pods still there after `wait_s`.
        """
        try:
            self.batch.delete_namespaced_job(
                name,
                self.namespace,
                propagation_policy="Background",
                grace_period_seconds=0,
                _request_timeout=API_TIMEOUT_S,
            )
        except self._api_exception as exc:
            if exc.status != 404:
                raise
        pods = list(self.pod_phases(selector))
        if pods:  # the garbage collector would get there; this gets there now
            self.core.delete_collection_namespaced_pod(
                self.namespace,
                label_selector=selector,
                grace_period_seconds=0,
                _request_timeout=API_TIMEOUT_S,
            )
        gone = poll_until(lambda _left: self.pod_phases(selector), wait_s, GONE_POLL_S,
                          done=lambda left: not left, look_at_deadline=True)  # fmt: skip
        if not gone.held:
            raise TimeoutError(
                f"pods of Job {name} still in namespace {self.namespace} after "
                f"{wait_s:g} s: {', '.join(sorted(gone.last()))}"
            )
        return pods
