"""kustomize's images transformer: a container image's name, tag or digest replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hubchaos.kube.files import KustomizeError

__all__ = ["apply_image", "split_image"]


def apply_image(objects: list[dict[str, Any]], image: Any, path: Path) -> None:
    if not isinstance(image, dict) or not isinstance(image.get("name"), str):
        raise KustomizeError(f"{path}: every images entry needs a name")
    unknown = sorted(set(image) - {"name", "newName", "newTag", "digest"})
    if unknown:
        raise KustomizeError(f"{path}: images: {unknown[0]!r} is not supported")
    for obj in objects:
        for container in _pod_containers(obj):
            name, suffix = split_image(str(container.get("image", "")))
            if name != image["name"]:
                continue
            if "digest" in image:
                suffix = f"@{image['digest']}"
            elif "newTag" in image:
                suffix = f":{image['newTag']}"
            container["image"] = f"{image.get('newName', name)}{suffix}"


def split_image(image: str) -> tuple[str, str]:
    """(name, ":tag" or "@digest" or "") of an image reference like host:5000/a/b:1.2."""
    if "@" in image:
        name, _, digest = image.partition("@")
        return name, f"@{digest}"
    name, colon, tag = image.rpartition(":")
    if colon and "/" not in tag:
        return name, f":{tag}"
    return image, ""


def _pod_containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    return [*spec.get("initContainers", []), *spec.get("containers", [])]
