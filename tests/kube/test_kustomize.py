"""The strict kustomize renderer: the hub's overlays render, anything else is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hubchaos.kube.kustomize import KustomizeError, build, split_image
from tests.kube.conftest import KUBERNETES, OVERLAY_NAMES, OVERLAYS, REPO, write

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {a: '1'}\n"
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: web, image: registry.local:5000/team/web:1.0}
"""
NO_HASH = "generatorOptions: {disableNameSuffixHash: true}\n"


def named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_every_overlay_renders_the_whole_hub_in_the_hubchaos_namespace(overlay: str) -> None:
    objects = build(OVERLAYS / overlay)
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for part in [
        ("StatefulSet", "postgres"),
        ("Deployment", "learninghub"),
        ("Deployment", "toxiproxy"),
        ("Deployment", "prometheus"),
        ("Deployment", "alertmanager"),
        ("Deployment", "postgres-exporter"),
        ("Deployment", "webhook-receiver"),
        ("HorizontalPodAutoscaler", "learninghub"),
        ("Job", "migrate"),
        ("ConfigMap", "hub-alert-rules"),
        ("ConfigMap", "learninghub-pool"),
    ]:
        assert part in kinds
    assert {o["metadata"].get("namespace") for o in objects} == {"hubchaos"}


def test_the_alert_rules_are_the_monitoring_files_themselves() -> None:
    rules = named(build(OVERLAYS / "fixed"), "ConfigMap", "hub-alert-rules")
    source = REPO / "environments" / "monitoring" / "rules"
    assert rules["data"] == {path.name: path.read_text() for path in source.glob("*.yml")}


def test_the_offline_component_swaps_every_image_and_the_proxy_command() -> None:
    online = build(OVERLAYS / "fixed")
    offline = build(OVERLAYS / "fixed-offline")

    def images(objects: list[dict[str, Any]]) -> set[str]:
        return {
            c["image"]
            for o in objects
            for c in o.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
        }

    assert "ghcr.io/shopify/toxiproxy:2.9.0" in images(online)
    assert images(offline) == {"hubchaos/runtime:offline", "hubchaos/services:offline"}
    proxy = named(offline, "Deployment", "toxiproxy")["spec"]["template"]["spec"]["containers"][0]
    assert proxy["command"] == ["python3", "-m", "hubchaos", "proxy"]
    assert "--config" in proxy["args"]
    # everything else is the same objects
    assert [(o["kind"], o["metadata"]["name"]) for o in offline] == [
        (o["kind"], o["metadata"]["name"]) for o in online
    ]


def test_generators_patches_images_and_namespace_as_kustomize_applies_them(
    kustomization: Any,
) -> None:
    root = kustomization(
        "namespace: team\n"
        "resources: [web.yaml]\n"
        "configMapGenerator:\n"
        "  - name: settings\n"
        "    files: [conf/app.ini, renamed.txt=conf/other.txt]\n"
        "    envs: [values.env]\n"
        "    literals: [MODE=fast]\n" + NO_HASH + "images:\n"
        "  - {name: registry.local:5000/team/web, newName: mirror/web, newTag: '2.0'}\n"
        "patches:\n"
        "  - target: {kind: Deployment, name: web}\n"
        "    patch: |-\n"
        "      - {op: add, path: /spec/replicas, value: 3}\n",
        {
            "web.yaml": DEPLOYMENT,
            "conf/app.ini": "[a]\n",
            "conf/other.txt": "other\n",
            "values.env": "# comment\n\nPOOL=9\n",
        },
    )
    objects = build(root)
    settings = named(objects, "ConfigMap", "settings")
    assert settings["data"] == {
        "app.ini": "[a]\n",
        "renamed.txt": "other\n",
        "POOL": "9",
        "MODE": "fast",
    }
    web = named(objects, "Deployment", "web")
    assert web["spec"]["replicas"] == 3
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "mirror/web:2.0"
    assert {o["metadata"]["namespace"] for o in objects} == {"team"}


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("postgres:15", ("postgres", ":15")),
        ("registry.local:5000/a/b", ("registry.local:5000/a/b", "")),
        ("registry.local:5000/a/b:1", ("registry.local:5000/a/b", ":1")),
        ("a/b@sha256:00", ("a/b", "@sha256:00")),
    ],
)
def test_image_references_split_into_name_and_tag(image: str, expected: tuple[str, str]) -> None:
    assert split_image(image) == expected


@pytest.mark.parametrize(
    ("text", "files", "message"),
    [
        ("commonLabels: {a: b}\n", {}, "field 'commonLabels' is not supported"),
        ("resources: [https://example.com/x.yaml]\n", {}, "remote resource"),
        ("resources: [web.yaml, web.yaml]\n", {"web.yaml": DEPLOYMENT}, "defined twice"),
        ("resources: [missing.yaml]\n", {}, "'missing.yaml' does not exist"),
        (
            "resources: [crd.yaml]\n",
            {"crd.yaml": "apiVersion: x/v1\nkind: Widget\nmetadata: {name: w}\n"},
            "kind Widget is not known",
        ),
        (
            "configMapGenerator: [{name: c, literals: [A=1]}]\n",
            {},
            "needs generatorOptions.disableNameSuffixHash",
        ),
        (
            "configMapGenerator: [{name: c, behavior: merge, literals: [A=1]}]\n" + NO_HASH,
            {},
            "'behavior' not supported",
        ),
        (
            "configMapGenerator: [{name: c, envs: [bad.env]}]\n" + NO_HASH,
            {"bad.env": "JUSTAKEY\n"},
            "bad.env:1: expected KEY=VALUE",
        ),
        (
            "resources: [web.yaml]\npatches:\n  - patch: '{spec: {replicas: 2}}'\n"
            "    target: {kind: Deployment, name: web}\n",
            {"web.yaml": DEPLOYMENT},
            "strategic-merge patches are not supported",
        ),
        (
            "resources: [web.yaml]\npatches:\n  - patch: '[]'\n"
            "    target: {kind: Deployment, name: nope}\n",
            {"web.yaml": DEPLOYMENT},
            "target Deployment/nope matches nothing",
        ),
        (
            "resources: [web.yaml]\npatches:\n  - patch: '[]'\n"
            "    target: {kind: Deployment, name: web, labelSelector: a=b}\n",
            {"web.yaml": DEPLOYMENT},
            "patch target field 'labelSelector' is not supported",
        ),
        (
            "resources: [web.yaml]\npatches:\n"
            "  - patch: '[{op: replace, path: /spec/paused, value: true}]'\n"
            "    target: {kind: Deployment, name: web}\n",
            {"web.yaml": DEPLOYMENT},
            "Deployment/web: operation 1: path /spec/paused: no key 'paused'",
        ),
        ("images: [{name: a, newTag: b, extra: c}]\n", {}, "images: 'extra' is not supported"),
        ("apiVersion: kustomize.config.k8s.io/v9\n", {}, "apiVersion must be"),
        ("kind: Component\n", {}, "kind is 'Component', expected 'Kustomization'"),
        ("- not a mapping\n", {}, "must be a YAML mapping"),
    ],
)
def test_what_the_renderer_does_not_support_is_refused_by_name(
    kustomization: Any, text: str, files: dict[str, str], message: str
) -> None:
    with pytest.raises(KustomizeError, match=message):
        build(kustomization(text, files))


def test_a_file_outside_the_root_is_refused_as_kustomize_does(tmp_path: Path) -> None:
    write(tmp_path / "outside.yml", "groups: []\n")
    root = tmp_path / "k"
    write(
        root / "kustomization.yaml",
        "configMapGenerator: [{name: rules, files: [../outside.yml]}]\n" + NO_HASH,
    )
    with pytest.raises(KustomizeError, match="outside the kustomization's directory"):
        build(root)
    # a symlink pointing out is the same file outside
    (root / "link.yml").symlink_to(tmp_path / "outside.yml")
    write(
        root / "kustomization.yaml",
        "configMapGenerator: [{name: rules, files: [link.yml]}]\n" + NO_HASH,
    )
    with pytest.raises(KustomizeError, match="outside the kustomization's directory"):
        build(root)


def test_a_resource_file_outside_the_root_is_refused_but_a_kustomization_dir_is_not(
    tmp_path: Path,
) -> None:
    write(tmp_path / "shared" / "cm.yaml", CONFIG_MAP % "shared")
    write(tmp_path / "k" / "kustomization.yaml", "resources: [../shared/cm.yaml]\n")
    with pytest.raises(KustomizeError, match="outside the kustomization's directory"):
        build(tmp_path / "k")
    write(tmp_path / "shared" / "kustomization.yaml", "resources: [cm.yaml]\n")
    write(tmp_path / "k" / "kustomization.yaml", "resources: [../shared]\n")
    assert [o["metadata"]["name"] for o in build(tmp_path / "k")] == ["shared"]


def test_kustomizations_that_include_each_other_are_a_cycle(tmp_path: Path) -> None:
    write(tmp_path / "a" / "kustomization.yaml", "resources: [../b]\n")
    write(tmp_path / "b" / "kustomization.yaml", "resources: [../a]\n")
    with pytest.raises(KustomizeError, match="cycle"):
        build(tmp_path / "a")


def test_a_directory_without_a_kustomization_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KustomizeError, match=r"no kustomization\.yaml"):
        build(tmp_path)
    with pytest.raises(KustomizeError, match="not a directory"):
        build(tmp_path / "nothing")


def test_a_component_needs_its_own_api_version(tmp_path: Path) -> None:
    write(tmp_path / "c" / "kustomization.yaml", "kind: Component\n")
    write(tmp_path / "k" / "kustomization.yaml", "components: [../c]\n")
    with pytest.raises(KustomizeError, match="a Component needs apiVersion"):
        build(tmp_path / "k")


def test_the_base_and_the_monitoring_dir_use_only_what_the_renderer_supports() -> None:
    # the base renders (incomplete: no pool until an overlay adds one)
    names = {o["metadata"]["name"] for o in build(KUBERNETES / "base")}
    assert "learninghub-pool" not in names and "hub-alert-rules" in names
