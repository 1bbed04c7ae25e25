"""Loading what a kustomization reads: YAML, under kustomize's load restrictor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hubchaos.errors import UserError

__all__ = ["LOADER", "KustomizeError", "inside_root", "parse_yaml", "string_list", "yaml_list"]

# libyaml's parser where PyYAML has it: parsing is most of a render's time.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=LOADER)  # CSafeLoader or SafeLoader: safe


class KustomizeError(UserError):
    """A kustomization the renderer cannot or will not render (exit 2 at the CLI)."""


def inside_root(root: Path, entry: str, where: Path) -> Path:
    """kustomize's LoadRestrictionsRootOnly: the real file must lie under the root."""
    path = (root / entry).resolve()
    if not path.is_relative_to(root.resolve()):
        raise KustomizeError(
            f"{where}: {entry!r} is outside the kustomization's directory; kustomize "
            "refuses such files (make that directory a kustomization and list it under "
            "resources instead)"
        )
    if not path.is_file():
        raise KustomizeError(f"{where}: {entry!r} does not exist")
    return path


def yaml_list(spec: dict[str, Any], key: str, path: Path) -> list[Any]:
    value = spec.get(key, [])
    if not isinstance(value, list):
        raise KustomizeError(f"{path}: '{key}' must be a list")
    return value


def string_list(spec: dict[str, Any], key: str, path: Path) -> list[str]:
    values = yaml_list(spec, key, path)
    if not all(isinstance(value, str) for value in values):
        raise KustomizeError(f"{path}: every '{key}' entry must be a string")
    return values
