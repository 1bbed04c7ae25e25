"""Reading a container's environment and command line as the kubelet builds them."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from hubchaos.kube.workloads import ManifestError, Manifests, expand


def test_expansion_follows_kubernetes_rules() -> None:
    env = {"A": "1", "B": "x"}
    assert expand("$(A)-$(B)", env) == "1-x"
    assert expand("$(UNDEFINED)", env) == "$(UNDEFINED)"  # kept, as Kubernetes does
    assert expand("$$(A) costs $$5", env) == "$(A) costs $5"  # $$ escapes
    assert expand("$A $(A", env) == "$A $(A"


def pod(container: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", **container}]}}},
    }


CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"N": "5"}}
SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "s"},
    "data": {"PW": base64.b64encode(b"hunter2").decode()},
    "stringData": {"USER": "me"},
}


def test_env_from_config_maps_secrets_and_earlier_variables() -> None:
    app = pod(
        {
            "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "P_"}],
            "env": [
                {"name": "USER", "valueFrom": {"secretKeyRef": {"name": "s", "key": "USER"}}},
                {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "PW"}}},
                {"name": "DSN", "value": "pg://$(USER):$(PW)@db/$(P_N)"},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            ],
            "command": ["run", "--size=$(P_N)"],
            "args": ["$(POD)"],
        }
    )
    manifests = Manifests([app, CONFIG, SECRET], "test")
    env = manifests.env(app, "c")
    assert env == {"P_N": "5", "USER": "me", "PW": "hunter2", "DSN": "pg://me:hunter2@db/5"}
    # a field reference is known only in the running pod: left unexpanded
    assert manifests.command_line(app, "c") == ["run", "--size=5", "$(POD)"]


@pytest.mark.parametrize(
    ("container", "message"),
    [
        ({"envFrom": [{"configMapRef": {"name": "gone"}}]}, "reads ConfigMap 'gone', which is"),
        (
            {"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "Z"}}}]},
            "reads key 'Z' of ConfigMap 'cm', which has no such key",
        ),
    ],
)
def test_a_missing_source_is_named(container: dict[str, Any], message: str) -> None:
    app = pod(container)
    with pytest.raises(ManifestError, match=message):
        Manifests([app, CONFIG], "overlay x").env(app, "c")


def test_a_missing_object_or_container_is_named() -> None:
    manifests = Manifests([pod({})], "overlay x")
    with pytest.raises(ManifestError, match="overlay x: no StatefulSet named 'db'"):
        manifests.require("StatefulSet", "db")
    with pytest.raises(ManifestError, match="Deployment app has no container 'web'"):
        manifests.container(manifests.require("Deployment", "app"), "web")
