"""hubchaos's renderer against the real kustomize, where one is installed.

`kubectl kustomize` (kustomize built into kubectl) or `kustomize build`
renders the same directories; the objects must be identical. Machines of
this project's kind have kubectl (with kustomize v5); elsewhere these tests
skip, and the renderer's own tests still run.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hubchaos.kube.kustomize import build
from tests.kube.conftest import OVERLAY_NAMES, OVERLAYS, with_autoscaling_v2, write


def reference_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


REFERENCE = reference_command()
pytestmark = pytest.mark.skipif(REFERENCE is None, reason="no kustomize or kubectl on PATH")


def reference(directory: Path) -> subprocess.CompletedProcess[str]:
    assert REFERENCE is not None
    return subprocess.run(
        [*REFERENCE, str(directory)], capture_output=True, text=True, timeout=120, check=False
    )


def by_id(objects: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in objects
    }


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_each_overlay_renders_exactly_as_kustomize_renders_it(overlay: str) -> None:
    result = reference(OVERLAYS / overlay)
    assert result.returncode == 0, result.stderr
    theirs = by_id(list(yaml.safe_load_all(result.stdout)))
    ours = by_id(build(OVERLAYS / overlay))
    assert sorted(ours) == sorted(theirs)
    assert [key for key in theirs if theirs[key] != ours[key]] == []


def test_the_autoscaling_v2_component_renders_as_kustomize_renders_it(tmp_path: Path) -> None:
    mine = with_autoscaling_v2(tmp_path)
    result = reference(mine)
    assert result.returncode == 0, result.stderr
    assert by_id(build(mine)) == by_id(list(yaml.safe_load_all(result.stdout)))


def test_generators_images_and_patches_agree_with_kustomize(tmp_path: Path) -> None:
    root = tmp_path / "k"
    write(
        root / "web.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n"
        "    metadata: {labels: {app: web}}\n    spec:\n      containers:\n"
        "        - {name: web, image: 'registry.local:5000/team/web:1.0'}\n"
        "        - {name: side, image: 'busybox@sha256:" + "0" * 64 + "'}\n",
    )
    write(root / "values.env", "# comment\nPOOL=9\n")
    write(root / "conf" / "app.ini", "[a]\n")
    write(
        root / "kustomization.yaml",
        "namespace: team\nresources: [web.yaml]\n"
        "configMapGenerator:\n  - name: settings\n"
        "    files: [conf/app.ini, renamed=conf/app.ini]\n    envs: [values.env]\n"
        "    literals: [MODE=fast]\n"
        "generatorOptions: {disableNameSuffixHash: true}\n"
        "images:\n  - {name: 'registry.local:5000/team/web', newName: mirror/web, newTag: '2.0'}\n"
        "  - {name: busybox, newName: mirror/busybox}\n"
        "patches:\n  - target: {kind: Deployment, name: web}\n    patch: |-\n"
        "      - {op: add, path: /spec/replicas, value: 3}\n"
        "      - {op: add, path: /spec/template/spec/containers/0/args, value: [-v]}\n",
    )
    result = reference(root)
    assert result.returncode == 0, result.stderr
    assert by_id(build(root)) == by_id(list(yaml.safe_load_all(result.stdout)))


def test_kustomize_too_refuses_a_file_outside_the_root(tmp_path: Path) -> None:
    write(tmp_path / "outside.yml", "groups: []\n")
    write(
        tmp_path / "k" / "kustomization.yaml",
        "configMapGenerator: [{name: rules, files: [../outside.yml]}]\n"
        "generatorOptions: {disableNameSuffixHash: true}\n",
    )
    result = reference(tmp_path / "k")
    assert result.returncode != 0 and "is not in or below" in result.stderr
