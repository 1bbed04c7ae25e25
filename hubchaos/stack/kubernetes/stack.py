"""The Kubernetes stack driver: the hub's overlay applied to a cluster, reached on loopback.

`kubernetes.json` (kubeconfig, context, namespace, the objects applied) is written
before the first object is applied, so `down` finds and deletes everything even
after an `up` that was interrupted halfway.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hubchaos.budget.sources import overlay_case
from hubchaos.errors import HubchaosError, UserError
from hubchaos.stack.base import BaseStack
from hubchaos.stack.driver import DEFAULT_PROFILE, DEFAULT_REPLICAS
from hubchaos.stack.endpoints import endpoints, url
from hubchaos.stack.kubernetes.connection import Connection, connect
from hubchaos.stack.kubernetes.forwards import forward_plan, start_forwards, stop_forwards
from hubchaos.stack.kubernetes.manifests import HubObjects, overlay_dir, render
from hubchaos.stack.kubernetes.rollout import wait_rollouts, workload_ready
from hubchaos.stack.local.processes import ProcessTable, is_ours
from hubchaos.stack.state import StackState, readable_state, remove_state, write_state
from hubchaos.stack.status import PartStatus, StackStatus

__all__ = ["DEFAULT_NAMESPACE", "KubernetesStack"]

DEFAULT_NAMESPACE = "hubchaos"
RECORD = "kubernetes.json"
PODS_GONE_S = 90.0  # `down` returns once the hub's pods are gone, not merely deleted
_NAMESPACE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_WORKLOAD_KINDS = ("StatefulSet", "Job", "Deployment")


class KubernetesStack(BaseStack):
    env = "kubernetes"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.table = ProcessTable(self.state_dir / "pids", self.state_dir / "logs")

    # ------------------------------------------------------------------ record

    @property
    def record_path(self) -> Path:
        return self.state_dir / RECORD

    def record(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.record_path.read_text()))
        except (OSError, ValueError):
            return None

    def _connect_recorded(self) -> tuple[Connection, HubObjects, dict[str, Any]] | None:
        record = self.record()
        if record is None:
            return None
        connection = connect(record["kubeconfig"], record["context"])
        return connection, HubObjects(connection.api, record["namespace"], self.progress), record

    # ---------------------------------------------------------------------- up

    def up(
        self,
        profile: str = DEFAULT_PROFILE,
        replicas: int = DEFAULT_REPLICAS,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        offline: bool = False,
    ) -> StackState:
        if not _NAMESPACE_NAME.match(namespace):
            raise UserError(f"namespace {namespace!r} is not a valid Kubernetes name")
        resolved = self.profiles.resolve(profile, replicas)
        objects = render(resolved.name, offline, namespace, resolved.replicas)
        connection = connect(kubeconfig, context)  # bad input stops here: nothing sent
        self.progress(f"cluster {connection.server} (context {connection.context}), "
                      f"namespace {namespace}")  # fmt: skip
        hub = HubObjects(connection.api, namespace, self.progress)

        def start() -> StackState:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            record = {
                "kubeconfig": str(connection.kubeconfig),
                "context": connection.context,
                "namespace": namespace,
                "objects": objects,
                "created_namespace": False,
            }
            self.record_path.write_text(json.dumps(record))
            record["created_namespace"] = hub.ensure_namespace()
            self.record_path.write_text(json.dumps(record))
            hub.check(objects)  # a dry run: a refused object stops us before any exists
            hub.apply(objects)
            workloads = [o for o in objects if o["kind"] in _WORKLOAD_KINDS]
            self.progress(f"waiting for {len(workloads)} workloads to roll out")
            took = wait_rollouts(hub, workloads, self.progress)
            self.progress(f"rolled out in {took:.1f} s")
            pods = sorted(
                p.metadata.name for p in hub.pods()
                if (p.metadata.labels or {}).get("app.kubernetes.io/name") == "learninghub"
                and (p.status or {}).get("phase") == "Running"
            )[: resolved.replicas]  # fmt: skip
            start_forwards(self.table, forward_plan(self.ports, pods),
                           connection.kubeconfig, connection.context, namespace)  # fmt: skip
            state = self._save(self._new_state(resolved, connection, namespace, len(pods)),
                               resolved)  # fmt: skip
            # The numbers that hold here are the overlay's (its pool size, and the
            # autoscaler's ceiling as the replica count), as `hubchaos budget` reads them.
            case = overlay_case(overlay_dir(resolved.name, offline))
            state.budget = {**case.resolved.as_dict(), "max_replicas": case.resolved.replicas}
            write_state(self.state_dir, state)
            return state

        return self._bring_up(resolved, start)

    def _new_state(self, resolved: Any, connection: Connection, namespace: str,
                   replicas: int) -> StackState:  # fmt: skip
        return StackState(
            state_dir=str(self.state_dir),
            profile=resolved.name,
            replicas=replicas,
            toxiproxy_url=url(self.ports.toxiproxy),
            **endpoints(self.ports, replicas),
            port_offset=self.port_offset,
            budget=resolved.as_dict(),
            toxiproxy={"kind": "kubernetes", "binary": "", "command": "svc/toxiproxy"},
            pids={r.name: r.pid for r in self.table.records()},
            processes={r.name: r.as_dict() for r in self.table.records()},
            logs={r.name: r.log_file for r in self.table.records()},
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            env=self.env,
            extra_env={
                "HUBCHAOS_K8S_NAMESPACE": namespace,
                "HUBCHAOS_K8S_CONTEXT": connection.context,
                "KUBERNETES_CONTEXT": connection.context,  # what chaostoolkit-kubernetes reads
                "KUBECONFIG": str(connection.kubeconfig),
            },
        )

    # ------------------------------------------------------------------ status

    def status(self) -> StackStatus:
        state = readable_state(self.state_dir)
        opened = self._connect_recorded()
        if opened is None:
            return StackStatus([], state)
        _, hub, record = opened
        parts = []
        for obj in record["objects"]:
            if obj["kind"] not in _WORKLOAD_KINDS:
                continue
            name = obj["metadata"]["name"]
            live = hub.get(obj["apiVersion"], obj["kind"], name)
            ready = workload_ready(live)
            state_word = "healthy" if ready else ("running" if live is not None else "down")
            detail = "" if ready else _ready_detail(live)
            parts.append(PartStatus(f"{obj['kind'].lower()}/{name}", state_word,
                                    record["namespace"], detail))  # fmt: skip
        for forward in self.table.records():
            alive = is_ours(forward)
            endpoint = " ".join(a for a in forward.argv if a[:1].isdigit() and ":" in a)
            parts.append(
                PartStatus(
                    forward.name,
                    "healthy" if alive else "down",
                    f"127.0.0.1 {endpoint}",
                    pid=forward.pid if alive else None,
                )
            )
        return StackStatus(parts, state)

    # -------------------------------------------------------------------- down

    def _has_running_parts(self) -> bool:
        return self.record_path.exists()

    def _has_leftovers(self) -> bool:
        return self.record_path.exists() or bool(self.table.records())

    def _ports_to_free(self) -> dict[str, int]:
        state = readable_state(self.state_dir)
        return self.ports.wanted(state.replicas if state else 0) if self.table.records() else {}

    def _teardown(self, state: StackState | None) -> list[str]:
        stopped = stop_forwards(self.table)
        record = self.record()
        if record is not None:
            try:
                connection = connect(record["kubeconfig"], record["context"])
            except HubchaosError as exc:
                self.progress(f"warning: the hub's objects in namespace {record['namespace']} "
                              f"were not deleted: {exc}")  # fmt: skip
                self.record_path.unlink(missing_ok=True)
                remove_state(self.state_dir)
                return stopped
            hub = HubObjects(connection.api, record["namespace"], self.progress)
            deleted = hub.delete(record["objects"])
            hub.wait_no_pods(PODS_GONE_S)
            if record.get("created_namespace"):
                hub.delete_namespace()
                deleted.append(f"namespace/{record['namespace']}")
            stopped += deleted
            self.record_path.unlink(missing_ok=True)
        remove_state(self.state_dir)
        return stopped

    # ------------------------------------------------------- changing the stack

    def set_profile(self, profile: str) -> StackState:
        raise UserError("--env kubernetes: change the profile with `hubchaos down` and "
                        f"`hubchaos up --env kubernetes --profile {profile}`")  # fmt: skip

    def scale(self, replicas: int) -> StackState:
        raise UserError("--env kubernetes: scale learninghub with kubectl or the "
                        "chaostoolkit-kubernetes scale_deployment action")  # fmt: skip

    def restart(self, component: str) -> StackState:
        raise UserError("--env kubernetes: restart with `kubectl rollout restart` or the "
                        "chaostoolkit-kubernetes rollout_deployment action")  # fmt: skip


def _ready_detail(live: Any) -> str:
    if live is None:
        return "missing"
    status = live.status or {}
    if live.kind == "Job":
        return "not finished"
    return f"{status.get('readyReplicas') or 0}/{live.spec.replicas} ready"
