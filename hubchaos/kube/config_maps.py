"""kustomize's configMapGenerator: files, env files and literals, without name hashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hubchaos.kube.files import KustomizeError, inside_root, string_list, yaml_list

__all__ = ["config_maps"]


def config_maps(spec: dict[str, Any], directory: Path, path: Path) -> list[dict[str, Any]]:
    generators = yaml_list(spec, "configMapGenerator", path)
    options = spec.get("generatorOptions")
    if options is not None and options != {"disableNameSuffixHash": True}:
        raise KustomizeError(
            f"{path}: generatorOptions may only be 'disableNameSuffixHash: true' here"
        )
    if generators and options is None:
        raise KustomizeError(
            f"{path}: configMapGenerator needs generatorOptions.disableNameSuffixHash: true "
            "(name hashes are not supported by hubchaos's renderer)"
        )
    return [_config_map(generator, directory, path) for generator in generators]


def _config_map(generator: Any, directory: Path, path: Path) -> dict[str, Any]:
    if not isinstance(generator, dict) or not isinstance(generator.get("name"), str):
        raise KustomizeError(f"{path}: every configMapGenerator entry needs a name")
    name = generator["name"]
    unknown = sorted(set(generator) - {"name", "files", "envs", "literals"})
    if unknown:
        raise KustomizeError(f"{path}: configMapGenerator {name}: {unknown[0]!r} not supported")
    data: dict[str, str] = {}

    def put(key: str, value: str) -> None:
        if key in data:
            raise KustomizeError(f"{path}: configMapGenerator {name}: key {key!r} twice")
        data[key] = value

    for entry in string_list(generator, "files", path):
        key, _, file_name = entry.rpartition("=")
        source = inside_root(directory, file_name, path)
        put(key or source.name, source.read_text())
    for entry in string_list(generator, "envs", path):
        for key, value in _env_file(inside_root(directory, entry, path)):
            put(key, value)
    for entry in string_list(generator, "literals", path):
        key, equals, value = entry.partition("=")
        if not equals or not key:
            raise KustomizeError(f"{path}: configMapGenerator {name}: literal {entry!r} not K=V")
        put(key, value)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def _env_file(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, equals, value = stripped.partition("=")
        if not equals or not key:
            raise KustomizeError(f"{path}:{number}: expected KEY=VALUE")
        pairs.append((key, value))
    return pairs
