"""Paths and helpers of the Kubernetes manifest tests (no cluster needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KUBERNETES = REPO / "environments" / "kubernetes"
OVERLAYS = KUBERNETES / "overlays"
OVERLAY_NAMES = ("fixed", "incident", "fixed-offline", "incident-offline")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def overlay_on(tmp_path: Path, base: str, extra: str = "") -> Path:
    """A user's overlay in tmp_path on top of one of the repository's overlays."""
    relative = os.path.relpath(OVERLAYS / base, tmp_path / "mine")
    write(
        tmp_path / "mine" / "kustomization.yaml",
        f"resources:\n  - {relative}\n{extra}",
    )
    return tmp_path / "mine"


def with_autoscaling_v2(tmp_path: Path, base: str = "fixed") -> Path:
    """A user's overlay adding components/autoscaling-v2 (Kubernetes 1.23+) to an overlay."""
    component = os.path.relpath(KUBERNETES / "components" / "autoscaling-v2", tmp_path / "mine")
    return overlay_on(tmp_path, base, f"components:\n  - {component}\n")


@pytest.fixture()
def kustomization(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a kustomization.yaml (plus files) into a fresh directory and return it."""

    def make(text: str, files: dict[str, str] | None = None) -> Path:
        root = tmp_path / "k"
        write(root / "kustomization.yaml", text)
        for name, content in (files or {}).items():
            write(root / name, content)
        return root

    return make
