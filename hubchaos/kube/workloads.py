"""Read rendered manifests the way the kubelet will run them.

A container's environment (env, envFrom and the ConfigMaps/Secrets they name)
and its command line with Kubernetes' `$(VAR)` expansion, so a number that
reaches PostgreSQL or the app through a ConfigMap is read where it lands.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from hubchaos.errors import UserError

__all__ = ["ManifestError", "Manifests", "expand"]

# $$ escapes a literal "$"; $(NAME) is replaced when NAME is defined, kept otherwise.
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


class ManifestError(UserError):
    """Manifests that lack what a reader needs (exit 2 at the CLI)."""


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' expansion of $(VAR) references in command, args and env values."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"
        return env.get(name, match.group(0))

    return _REFERENCE.sub(replace, text)


@dataclass(frozen=True)
class Manifests:
    """The objects of one rendered kustomization; `source` names it in errors."""

    objects: list[dict[str, Any]]
    source: str

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        for obj in self.objects:
            if obj["kind"] == kind and obj["metadata"]["name"] == name:
                return obj
        return None

    def require(self, kind: str, name: str) -> dict[str, Any]:
        obj = self.find(kind, name)
        if obj is None:
            raise ManifestError(f"{self.source}: no {kind} named {name!r}")
        return obj

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [obj for obj in self.objects if obj["kind"] == kind]

    def container(self, workload: dict[str, Any], name: str) -> dict[str, Any]:
        containers = workload.get("spec", {}).get("template", {}).get("spec", {})
        for container in containers.get("containers", []):
            if container.get("name") == name:
                return dict(container)
        raise ManifestError(f"{self.source}: {_describe(workload)} has no container {name!r}")

    def env(self, workload: dict[str, Any], container_name: str) -> dict[str, str]:
        """The container's environment: envFrom first, then env in order, each expanded."""
        container = self.container(workload, container_name)
        where = f"{_describe(workload)} container {container_name}"
        env: dict[str, str] = {}
        for source in container.get("envFrom", []):
            prefix = str(source.get("prefix", ""))
            if "configMapRef" in source:
                data = self._data("ConfigMap", source["configMapRef"]["name"], where)
            elif "secretRef" in source:
                data = self._data("Secret", source["secretRef"]["name"], where)
            else:
                raise ManifestError(f"{self.source}: {where}: unsupported envFrom {source}")
            env.update({f"{prefix}{key}": value for key, value in data.items()})
        for variable in container.get("env", []):
            name = variable["name"]
            if "value" in variable:
                env[name] = expand(str(variable["value"]), env)
                continue
            ref = variable.get("valueFrom", {})
            if "configMapKeyRef" in ref:
                env[name] = self._key("ConfigMap", ref["configMapKeyRef"], where)
            elif "secretKeyRef" in ref:
                env[name] = self._key("Secret", ref["secretKeyRef"], where)
            else:  # fieldRef, resourceFieldRef: known only in the running pod
                env.pop(name, None)
        return env

    def command_line(self, workload: dict[str, Any], container_name: str) -> list[str]:
        """command + args of the container after $(VAR) expansion."""
        container = self.container(workload, container_name)
        env = self.env(workload, container_name)
        words = [*container.get("command", []), *container.get("args", [])]
        return [expand(str(word), env) for word in words]

    def _data(self, kind: str, name: str, where: str) -> dict[str, str]:
        obj = self.find(kind, name)
        if obj is None:
            raise ManifestError(f"{self.source}: {where} reads {kind} {name!r}, which is missing")
        data = {key: str(value) for key, value in (obj.get("data") or {}).items()}
        if kind == "Secret":
            data = {
                key: base64.b64decode(value).decode("utf-8", "replace")
                for key, value in data.items()
            }
            data.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
        return data

    def _key(self, kind: str, ref: dict[str, Any], where: str) -> str:
        data = self._data(kind, str(ref.get("name")), where)
        key = str(ref.get("key"))
        if key not in data:
            raise ManifestError(f"{self.source}: {where} reads key {key!r} of {kind} "
                                f"{ref.get('name')!r}, which has no such key")  # fmt: skip
        return data[key]


def _describe(obj: dict[str, Any]) -> str:
    return f"{obj['kind']} {obj['metadata']['name']}"
