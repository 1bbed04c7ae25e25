"""A client for the cluster a kubeconfig and context name; bad input said in one line.

Missing kubeconfig or unknown context: UserError (exit 2). Unreachable or
unauthorised cluster: StackError (exit 4). Nothing is sent before both pass.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubchaos.errors import StackError, UserError

__all__ = ["CONNECT_TIMEOUT_S", "Connection", "connect", "kubeconfig_path"]

CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Connection:
    api: Any  # kubernetes.client.ApiClient
    kubeconfig: Path
    context: str
    server: str


def kubeconfig_path(explicit: str | None) -> Path:
    """--kubeconfig, else the first file of $KUBECONFIG, else ~/.kube/config."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise UserError(f"kubeconfig {explicit} not found: pass --kubeconfig FILE")
        return path.absolute()
    for candidate in os.environ.get("KUBECONFIG", "").split(os.pathsep):
        if candidate and Path(candidate).expanduser().is_file():
            return Path(candidate).expanduser().absolute()
    default = Path.home() / ".kube" / "config"
    if default.is_file():
        return default
    raise UserError(
        "no kubeconfig: pass --kubeconfig FILE or set KUBECONFIG "
        "(`hubchaos cluster up` writes .hubchaos/cluster/kubeconfig)"
    )


def connect(kubeconfig: str | None, context: str | None) -> Connection:
    """A checked client: the context exists and the apiserver answers with our credentials."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    path = kubeconfig_path(kubeconfig)
    try:
        contexts, current = config.list_kube_config_contexts(config_file=str(path))
    except (ConfigException, OSError, ValueError) as exc:
        raise UserError(f"kubeconfig {path} is unreadable: {exc}") from None
    names = [entry["name"] for entry in contexts or []]
    chosen = context or (current or {}).get("name")
    if not chosen or chosen not in names:
        raise UserError(
            f"context {chosen!r} is not in {path}: choose one of {', '.join(names) or '(none)'}"
        )
    try:
        api = config.new_client_from_config(config_file=str(path), context=chosen)
    except (ConfigException, OSError, ValueError) as exc:
        raise UserError(f"context {chosen} of {path} is unusable: {exc}") from None
    server = str(api.configuration.host)
    try:
        client.VersionApi(api).get_code(_request_timeout=CONNECT_TIMEOUT_S)
        # A cheap authorised call: /version is often readable anonymously.
        client.CoreV1Api(api).list_namespace(limit=1, _request_timeout=CONNECT_TIMEOUT_S)
    except client.ApiException as exc:
        raise StackError(
            "kubernetes", f"{server} refused the credentials of context {chosen} "
            f"({exc.status} {exc.reason}): fix the kubeconfig or RBAC"
        ) from None  # fmt: skip
    except Exception as exc:  # urllib3 connection errors, TLS failures
        raise StackError(
            "kubernetes", f"cannot reach {server} (context {chosen}): {_cause(exc)}; "
            "is the cluster running (`hubchaos cluster status`)?"
        ) from None  # fmt: skip
    return Connection(api=api, kubeconfig=path, context=chosen, server=server)


def _cause(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)
    text = str(reason or exc)
    return text.splitlines()[0][:200]
