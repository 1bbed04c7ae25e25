"""Loopback port-forwards to the hub's Services (kubectl port-forward --address 127.0.0.1).

Each forward is a process of the state directory's process table, so `down`
stops it like any local part, and a stray one is found by its mark. kubectl
runs under a keeper (keeper.py) that restarts it when a reset connection
ends the whole forward.
"""

from __future__ import annotations

import shutil
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from hubchaos.errors import StackError
from hubchaos.polling import poll_until
from hubchaos.stack.local.processes import ProcessTable, is_ours
from hubchaos.stack.ports import HOST, Ports

__all__ = ["Forward", "forward_plan", "start_forwards", "stop_forwards"]

FORWARD_DEADLINE_S = 20.0


@dataclass(frozen=True)
class Forward:
    name: str  # process name
    target: str  # svc/NAME or pod/NAME
    ports: tuple[tuple[int, int], ...]  # (local, remote)


def forward_plan(ports: Ports, replica_pods: list[str]) -> list[Forward]:
    """What the runner needs on loopback: the same ports as the local stack."""
    plan = [
        Forward("forward-toxiproxy", "svc/toxiproxy",
                ((ports.toxiproxy, 8474), (ports.hub_db, 15433), (ports.hub_web, 18000))),
        Forward("forward-postgres", "svc/postgres", ((ports.postgres, 5432),)),
        Forward("forward-prometheus", "svc/prometheus", ((ports.prometheus, 9090),)),
        Forward("forward-alertmanager", "svc/alertmanager", ((ports.alertmanager, 9093),)),
        Forward("forward-receiver", "svc/webhook-receiver", ((ports.receiver, 9095),)),
        Forward("forward-exporter", "svc/postgres-exporter", ((ports.exporter, 9187),)),
    ]  # fmt: skip
    for index, pod in enumerate(replica_pods, start=1):
        plan.append(Forward(f"forward-app-{index}", f"pod/{pod}", ((ports.replica(index), 8000),)))
    return plan


def start_forwards(
    table: ProcessTable, plan: list[Forward], kubeconfig: Path, context: str, namespace: str
) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise StackError("port-forward", "kubectl not found on PATH (it runs the port-forwards)")
    for forward in plan:
        argv = [sys.executable, "-m", "hubchaos.stack.kubernetes.keeper",
                kubectl, f"--kubeconfig={kubeconfig}", f"--context={context}",
                f"--namespace={namespace}", "port-forward", "--address", HOST, forward.target,
                *(f"{local}:{remote}" for local, remote in forward.ports)]  # fmt: skip
        table.spawn(forward.name, argv)
    deadline = time.monotonic() + FORWARD_DEADLINE_S  # one for all of them
    for forward in plan:
        for local, _ in forward.ports:
            _await_listening(table, forward, local, max(0.0, deadline - time.monotonic()))


def _await_listening(table: ProcessTable, forward: Forward, local: int, seconds: float) -> None:
    """Until 127.0.0.1:`local` accepts; StackError when its kubectl exits or time runs out."""

    def listening(_left: float) -> bool:
        if _listening(local):
            return True
        record = table.record(forward.name)
        if record is None or not is_ours(record):
            raise StackError(forward.name, f"kubectl port-forward {forward.target} "
                             "exited", str(table.log_file(forward.name)))  # fmt: skip
        return False

    if not poll_until(listening, seconds, 0.1, look_at_deadline=True).held:
        raise StackError(forward.name, f"127.0.0.1:{local} not listening",
                         str(table.log_file(forward.name)))  # fmt: skip


def stop_forwards(table: ProcessTable) -> list[str]:
    stopped = []
    for record in table.records():
        if record.name.startswith("forward-"):
            if is_ours(record):
                stopped.append(record.name)
            table.stop(record, deadline_s=5.0)
    table.stop_strays()
    return stopped


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0
