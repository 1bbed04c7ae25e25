"""How a recorded fault is undone: the ledger stores data, this module acts on it.

An entry's `undo` is ``{"action": NAME, ...arguments}``; NAME picks one
function from `UNDOERS`. Every action is idempotent (undoing twice, or
undoing what is already gone, succeeds), talks to the stack only over the
network or through its driver, and bounds every call in time, so the dead
man's switch can retry it until it holds. Toxiproxy is reached through its
HTTP API only, so a real `toxiproxy-server` is undone as well as the
embedded one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hubchaos.ledger.http import HttpError, request

__all__ = [
    "UNDOERS",
    "UndoFailed",
    "undo",
    "undo_delete_job",
    "undo_delete_toxic",
    "undo_enable_proxy",
    "undo_uncordon_node",
]

HTTP_TIMEOUT_S = 5.0
JOB_GONE_S = 60.0  # a flood pod ends within its 5 s grace; the rest is the kubelet


class UndoFailed(Exception):
    """An undo could not be done now; the entry stays and is retried."""


Undoer = Callable[[dict[str, Any]], None]
UNDOERS: dict[str, Undoer] = {}


def _undoer(name: str) -> Callable[[Undoer], Undoer]:
    def register(function: Undoer) -> Undoer:
        UNDOERS[name] = function
        return function

    return register


def undo_delete_toxic(url: str, proxy: str, toxic: str) -> dict[str, Any]:
    return {"action": "toxiproxy.delete_toxic", "url": url, "proxy": proxy, "toxic": toxic}


def undo_enable_proxy(url: str, proxy: str) -> dict[str, Any]:
    return {"action": "toxiproxy.enable_proxy", "url": url, "proxy": proxy}


def undo_delete_job(
    kubeconfig: str, context: str, namespace: str, job: str, selector: str
) -> dict[str, Any]:
    return {
        "action": "kubernetes.delete_job",
        "kubeconfig": kubeconfig,
        "context": context,
        "namespace": namespace,
        "job": job,
        "selector": selector,
    }


def undo_uncordon_node(kubeconfig: str, context: str | None, node: str) -> dict[str, Any]:
    return {
        "action": "kubernetes.uncordon_node",
        "kubeconfig": kubeconfig,
        "context": context,
        "node": node,
    }


def undo(action: dict[str, Any]) -> None:
    """Carry out one undo; raises UndoFailed naming the target and the cause."""
    name = str(action.get("action", ""))
    function = UNDOERS.get(name)
    if function is None:
        raise UndoFailed(f"unknown undo action {name!r}")
    try:
        function(action)
    except UndoFailed:
        raise
    except Exception as exc:  # one clear line per failure; the switch retries
        raise UndoFailed(f"{name}: {type(exc).__name__}: {exc}") from exc


def _proxy_path(url: str, proxy: str, *rest: str) -> str:
    parts = [quote(str(p), safe="") for p in (proxy, *rest)]
    return f"{url.rstrip('/')}/proxies/" + "/".join(parts)


def _http(method: str, url: str, body: dict[str, Any] | None = None) -> None:
    try:
        status, reply = request(method, url, body, HTTP_TIMEOUT_S)
    except HttpError as exc:
        raise UndoFailed(str(exc)) from exc
    if status == 404:
        return  # the toxic or the proxy is gone already: nothing left to undo
    if status >= 300:
        raise UndoFailed(f"{method} {url}: HTTP {status} {reply[:200].decode(errors='replace')}")


@_undoer("toxiproxy.delete_toxic")
def _delete_toxic(action: dict[str, Any]) -> None:
    _http("DELETE", _proxy_path(action["url"], action["proxy"], "toxics", action["toxic"]))


@_undoer("toxiproxy.enable_proxy")
def _enable_proxy(action: dict[str, Any]) -> None:
    _http("POST", _proxy_path(action["url"], action["proxy"]), {"enabled": True})


@_undoer("flood.process")
def _flood_of_a_process(action: dict[str, Any]) -> None:
    """A flood's sockets close with the process that ran it; its DB sessions are ended too."""
    dsn, application_name = action.get("observer_dsn"), action.get("application_name")
    if not dsn or not application_name:
        return
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=5, application_name="hubchaos-undo") as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s AND pid <> pg_backend_pid()",
                (application_name,),
            )
    except psycopg.Error as exc:
        if _nothing_listens(dsn):
            return  # no server there any more, so no session of the flood is left
        raise UndoFailed(f"ending {application_name} sessions: {exc}") from exc


def _nothing_listens(dsn: str) -> bool:
    """Whether the DSN's TCP address refuses connections (libpq's words may be translated)."""
    import socket

    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(dsn)
        host, port = str(params.get("host") or ""), int(params.get("port") or 5432)
    except (psycopg.Error, ValueError):
        return False  # several ports, or a DSN libpq cannot read: retried
    if not host or host.startswith("/") or "," in host:
        return False  # a Unix socket or several hosts: not judged here, retried
    try:
        socket.create_connection((host, port), timeout=HTTP_TIMEOUT_S).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


@_undoer("stack.restore")
def _restore_stack(action: dict[str, Any]) -> None:
    """Put the stack's profile and replica count back as they were before the change."""
    from hubchaos.stack.drivers import open_stack

    stack = open_stack(
        Path(action["state_dir"]),
        port_offset=int(action.get("port_offset", 0)),
        progress=lambda line: None,
    )
    state = stack.state()
    if state is None:
        return  # the stack is down: nothing runs with the changed settings
    if state.replicas != int(action["replicas"]):
        stack.scale(int(action["replicas"]))
        state = stack.state() or state
    if state.profile != action["profile"]:
        stack.set_profile(str(action["profile"]))


@_undoer("container.start")
def _start_container(action: dict[str, Any]) -> None:
    from hubchaos.stack.drivers import open_service_faults

    stack = open_service_faults(Path(action["state_dir"]), progress=lambda line: None)
    if stack is None:
        return  # the docker stack is down: no container of it is left to start
    for item in stack.health():
        if item["service"] == action["service"] and (item["paused"] or not item["running"]):
            stack.start_service(action["service"], True, True)


@_undoer("container.scale")
def _scale_containers(action: dict[str, Any]) -> None:
    from hubchaos.stack.drivers import open_stack

    stack: Any = open_stack(Path(action["state_dir"]), progress=lambda line: None)
    state = stack.state()
    if state is not None and state.replicas != int(action["replicas"]):
        stack.scale(int(action["replicas"]))


@_undoer("kubernetes.delete_job")
def _delete_job(action: dict[str, Any]) -> None:
    """A cluster flood's Job and its pods are deleted (idempotent: gone is done)."""
    from hubchaos.errors import HubchaosError
    from hubchaos.stack.kubernetes.connection import connect
    from hubchaos.stack.kubernetes.jobs import Jobs

    try:
        connection = connect(action["kubeconfig"], action["context"])
    except HubchaosError as exc:
        raise UndoFailed(f"Job {action['job']} in namespace {action['namespace']}: {exc}") from exc
    jobs = Jobs(connection.api, action["namespace"])
    jobs.remove(action["job"], action["selector"], JOB_GONE_S)


@_undoer("kubernetes.uncordon_node")
def _uncordon_node(action: dict[str, Any]) -> None:
    """The node takes new pods again (a node that is gone has nothing to undo)."""
    from kubernetes import client, config

    api = config.new_client_from_config(
        config_file=action["kubeconfig"], context=action.get("context") or None
    )
    try:
        client.CoreV1Api(api).patch_node(
            action["node"], {"spec": {"unschedulable": False}}, _request_timeout=HTTP_TIMEOUT_S
        )
    except client.ApiException as exc:
        if exc.status != 404:
            raise UndoFailed(
                f"uncordon node {action['node']}: HTTP {exc.status} {exc.reason}"
            ) from None
    finally:
        api.close()


@_undoer("kubernetes.scale")
def _restore_kubernetes_scale(action: dict[str, Any]) -> None:
    """Put a Deployment's replica count and its autoscaler's ceiling back as they were."""
    from hubchaos.activity.autoscaler import restore

    restore(action)
