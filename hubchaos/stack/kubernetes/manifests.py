"""The hub's objects for one cluster: rendered from an overlay, checked, applied, deleted.

Everything is first applied as a server-side dry run, so an object the cluster
would refuse (an unknown kind, a bad field) stops `up` before anything exists;
the real apply then goes object by object (server-side apply, field manager
`hubchaos`), and what was applied is deleted again if a later one fails.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hubchaos.errors import StackError, UserError
from hubchaos.kube.kustomize import KustomizeError, build
from hubchaos.polling import poll_until
from hubchaos.stack.environments import environment_path

__all__ = [
    "FIELD_MANAGER",
    "HubObjects",
    "overlay_dir",
    "render",
]

FIELD_MANAGER = "hubchaos"
_APPLY_ORDER = {kind: rank for rank, kind in enumerate(
    ("ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim", "Service", "StatefulSet",
     "Deployment", "Job", "HorizontalPodAutoscaler"))}  # fmt: skip
Progress = Callable[[str], None]


def overlay_dir(profile: str, offline: bool) -> Path:
    name = f"{profile}-offline" if offline else profile
    path = environment_path("kubernetes", "overlays", name)
    if not path.is_dir():
        raise UserError(f"no Kubernetes overlay {name} in {path.parent}: profile fixed|incident")
    return path


def render(profile: str, offline: bool, namespace: str, replicas: int) -> list[dict[str, Any]]:
    """The overlay's objects, moved to `namespace`, learninghub at `replicas` replicas."""
    try:
        objects = copy.deepcopy(build(overlay_dir(profile, offline)))
    except KustomizeError as exc:
        raise UserError(f"the Kubernetes overlay does not render: {exc}") from None
    # What pods read and reach exists before the pods: configuration, Services, workloads.
    objects.sort(key=lambda obj: _APPLY_ORDER.get(obj["kind"], len(_APPLY_ORDER)))
    for obj in objects:
        obj["metadata"]["namespace"] = namespace
        _explicit_protocols(obj)
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "learninghub":
            obj["spec"]["replicas"] = replicas
        if obj["kind"] == "HorizontalPodAutoscaler":
            spec = obj["spec"]
            spec["minReplicas"] = min(max(replicas, 1), int(spec.get("maxReplicas", replicas)))
    return objects


def _explicit_protocols(obj: dict[str, Any]) -> None:
    """Write out `protocol: TCP` (the default) on every port: server-side apply on 1.20
    refuses list entries that omit a key field, and `protocol` is one."""
    spec = obj.get("spec", {})
    lists = [spec.get("ports", [])] if obj["kind"] == "Service" else []
    template = spec.get("jobTemplate", {}).get("spec", spec).get("template", {}).get("spec", {})
    for container in template.get("containers", []) + template.get("initContainers", []):
        lists.append(container.get("ports", []))
    for ports in lists:
        for port in ports:
            port.setdefault("protocol", "TCP")


class HubObjects:
    """The hub's objects in one namespace of one cluster."""

    def __init__(self, api: Any, namespace: str, progress: Progress) -> None:
        from kubernetes.dynamic import DynamicClient

        self.namespace = namespace
        self.progress = progress
        self._dynamic = DynamicClient(api)

    def _resource(self, obj: dict[str, Any]) -> Any:
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        try:
            return self._dynamic.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        except ResourceNotFoundError:
            raise StackError(
                "kubernetes", f"the cluster does not serve {obj['kind']} {obj['apiVersion']}: "
                "use a cluster of Kubernetes 1.20 or later"
            ) from None  # fmt: skip

    def ensure_namespace(self) -> bool:
        """Create the namespace when it is missing; True if this call created it."""
        from kubernetes.dynamic.exceptions import NotFoundError

        namespaces = self._dynamic.resources.get(api_version="v1", kind="Namespace")

        def phase(_left: float) -> str | None:
            try:
                return str(namespaces.get(name=self.namespace).status.phase)
            except NotFoundError:
                return None

        # A namespace a previous `down` deleted refuses new objects until it is gone.
        polled = poll_until(
            phase, 120, 1.0, done=lambda found: found != "Terminating", look_at_deadline=True
        )
        if not polled.held:
            raise StackError("kubernetes", f"namespace {self.namespace} is still "
                             "being deleted: try again in a minute")  # fmt: skip
        if polled.value is not None:
            return False
        labels = {"app.kubernetes.io/managed-by": "hubchaos"}
        metadata = {"name": self.namespace, "labels": labels}
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}
        namespaces.create(body=body)
        return True

    def check(self, objects: list[dict[str, Any]]) -> None:
        """Server-side dry run of every object: nothing is created, every refusal is named."""
        for obj in objects:
            self._apply(obj, dry_run=True)

    def apply(self, objects: list[dict[str, Any]]) -> None:
        applied: list[dict[str, Any]] = []
        try:
            for obj in objects:
                self._apply(obj, dry_run=False)
                applied.append(obj)
        except BaseException:
            self.progress(f"apply failed: deleting the {len(applied)} object(s) already applied")
            self.delete(applied)
            raise
        self.progress(f"applied {len(applied)} objects (server-side apply) in {self.namespace}")

    def _apply(self, obj: dict[str, Any], dry_run: bool) -> None:
        from kubernetes.dynamic.exceptions import DynamicApiError

        resource = self._resource(obj)
        name = obj["metadata"]["name"]
        try:
            resource.server_side_apply(
                body=obj, name=name, namespace=self.namespace, field_manager=FIELD_MANAGER,
                force_conflicts=True, dry_run="All" if dry_run else None,
            )  # fmt: skip
        except DynamicApiError as exc:
            what = "refuses" if dry_run else "did not apply"
            raise StackError(
                "kubernetes", f"the cluster {what} {obj['kind']}/{name}: {_message(exc)}"
            ) from None

    def delete(self, objects: list[dict[str, Any]]) -> list[str]:
        """Delete `objects` (last first), their pods with them; the names deleted."""
        from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError

        deleted = []
        for obj in reversed(objects):
            name = obj["metadata"]["name"]
            try:
                self._resource(obj).delete(
                    name=name, namespace=self.namespace,
                    body={"propagationPolicy": "Background"},
                )  # fmt: skip
                deleted.append(f"{obj['kind']}/{name}")
            except NotFoundError:
                continue
            except DynamicApiError as exc:
                self.progress(f"could not delete {obj['kind']}/{name}: {_message(exc)}")
        return deleted

    def delete_namespace(self) -> None:
        from kubernetes.dynamic.exceptions import NotFoundError

        namespaces = self._dynamic.resources.get(api_version="v1", kind="Namespace")
        with contextlib.suppress(NotFoundError):
            namespaces.delete(name=self.namespace)

    def wait_no_pods(self, deadline_s: float) -> None:
        polled = poll_until(
            lambda _left: self.pods(), deadline_s, 1.0, done=lambda pods: not pods,
            look_at_deadline=True,
        )  # fmt: skip
        if not polled.held:
            names = ", ".join(p.metadata.name for p in polled.last())
            self.progress(f"warning: pods still terminating in {self.namespace}: {names}")

    def pods(self) -> list[Any]:
        pods = self._dynamic.resources.get(api_version="v1", kind="Pod")
        return list(pods.get(namespace=self.namespace).items)

    def get(self, api_version: str, kind: str, name: str) -> Any | None:
        from kubernetes.dynamic.exceptions import NotFoundError

        try:
            return self._dynamic.resources.get(api_version=api_version, kind=kind).get(
                name=name, namespace=self.namespace
            )
        except NotFoundError:
            return None


def _message(exc: Any) -> str:
    import json

    try:
        return str(json.loads(exc.body).get("message", exc.summary()))[:300]
    except (TypeError, ValueError, AttributeError):
        return str(exc)[:300]
