"""A small, strict kustomize renderer: exactly the features the hub's manifests use.

No kustomize or kubectl binary is needed to render environments/kubernetes
(the tests and `hubchaos budget` run without either). Supported, with
kustomize's meaning:

  resources          YAML files inside the root, or directories holding a
                     kustomization (anywhere, as in kustomize)
  components         directories holding a `kind: Component`
  namespace          set on every namespaced object
  configMapGenerator name + files / envs / literals, with
                     generatorOptions.disableNameSuffixHash: true
  patches            JSON 6902 operations (inline or a file) with a target
                     of kind/name (optionally group/version)
  images             name -> newName / newTag / digest

Everything else (strategic-merge patches, name hashes, labels, remote
resources, replacements ...) is refused with an error naming the field, so an
overlay never renders differently here than with `kubectl apply -k`. Files are
held to kustomize's default load restrictor: a file a kustomization reads must
lie inside that kustomization's directory (symlinks resolved).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hubchaos.kube.config_maps import config_maps
from hubchaos.kube.files import (
    LOADER,
    KustomizeError,
    inside_root,
    parse_yaml,
    string_list,
    yaml_list,
)
from hubchaos.kube.images import apply_image, split_image
from hubchaos.kube.json_patch import PatchError, apply_patch

__all__ = ["KustomizeError", "build", "kustomization_file", "split_image"]

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_KUSTOMIZATION_API = "kustomize.config.k8s.io/v1beta1"
_COMPONENT_API = "kustomize.config.k8s.io/v1alpha1"
_FIELDS = {
    "apiVersion",
    "kind",
    "resources",
    "components",
    "namespace",
    "configMapGenerator",
    "generatorOptions",
    "patches",
    "images",
}
# The kinds the renderer knows, all namespaced: an unknown kind is refused
# rather than guessed. Cluster-scoped kinds (Namespace, ClusterRole...) and kinds
# kustomize rewrites beyond metadata (RoleBinding subjects) are left out on
# purpose: none of the hub's manifests needs them, and a half-right rendering
# would be worse than a refusal.
NAMESPACED_KINDS = frozenset(
    {
        "ConfigMap",
        "Secret",
        "Service",
        "ServiceAccount",
        "Deployment",
        "StatefulSet",
        "Job",
        "HorizontalPodAutoscaler",
        "PersistentVolumeClaim",
    }
)


@dataclass
class _Accumulator:
    objects: list[dict[str, Any]] = field(default_factory=list)

    def add(self, obj: dict[str, Any], where: Path) -> None:
        key = _object_id(obj)
        if any(_object_id(existing) == key for existing in self.objects):
            raise KustomizeError(f"{where}: {_describe(obj)} is defined twice")
        self.objects.append(obj)


def kustomization_file(directory: Path) -> Path:
    """The kustomization file of `directory`; KustomizeError when there is none."""
    if not directory.is_dir():
        raise KustomizeError(f"{directory}: not a directory with a kustomization.yaml")
    found = [directory / name for name in KUSTOMIZATION_NAMES if (directory / name).is_file()]
    if not found:
        raise KustomizeError(f"{directory}: no kustomization.yaml in it")
    if len(found) > 1:
        raise KustomizeError(f"{directory}: more than one kustomization file")
    return found[0]


def build(directory: Path) -> list[dict[str, Any]]:
    """Render the kustomization in `directory`: the objects `kubectl apply -k` would send."""
    return _build(directory.resolve(), stack=(), component=False).objects


def _build(directory: Path, stack: tuple[Path, ...], component: bool) -> _Accumulator:
    if directory in stack:
        chain = " -> ".join(str(path) for path in (*stack, directory))
        raise KustomizeError(f"kustomizations include each other in a cycle: {chain}")
    path = kustomization_file(directory)
    spec = _load_kustomization(path, component)
    stack = (*stack, directory)
    accumulated = _Accumulator()
    for entry in string_list(spec, "resources", path):
        _add_resource(accumulated, directory, entry, stack, path)
    for entry in string_list(spec, "components", path):
        _apply_component(accumulated, directory / entry, stack, path)
    _apply_own_fields(accumulated, spec, directory, path)
    return accumulated


def _apply_component(
    accumulated: _Accumulator, directory: Path, stack: tuple[Path, ...], where: Path
) -> None:
    """A component adds its resources and runs its fields over the parent's objects."""
    directory = directory.resolve()
    path = kustomization_file(directory)
    spec = _load_kustomization(path, component=True)
    for entry in string_list(spec, "resources", path):
        _add_resource(accumulated, directory, entry, (*stack, directory), path)
    if "components" in spec:
        raise KustomizeError(f"{path}: components inside a component are not supported")
    _apply_own_fields(accumulated, spec, directory, path)


def _apply_own_fields(
    accumulated: _Accumulator, spec: dict[str, Any], directory: Path, path: Path
) -> None:
    # kustomize's order: generators, then patches, the namespace, the images.
    for generated in config_maps(spec, directory, path):
        accumulated.add(generated, path)
    for patch in yaml_list(spec, "patches", path):
        _apply_patch(accumulated.objects, patch, directory, path)
    namespace = spec.get("namespace")
    if namespace is not None:
        if not isinstance(namespace, str) or not namespace:
            raise KustomizeError(f"{path}: 'namespace' must be a non-empty string")
        for obj in accumulated.objects:
            obj["metadata"]["namespace"] = namespace
    for image in yaml_list(spec, "images", path):
        apply_image(accumulated.objects, image, path)


def _load_kustomization(path: Path, component: bool) -> dict[str, Any]:
    spec = _read_yaml_mapping(path)
    kind = spec.get("kind", "Kustomization")
    wanted, api = ("Component", _COMPONENT_API) if component else ("Kustomization", None)
    if kind != wanted:
        raise KustomizeError(f"{path}: kind is {kind!r}, expected {wanted!r}")
    version = spec.get("apiVersion")
    if component and version != api:
        raise KustomizeError(f"{path}: a Component needs apiVersion {api}")
    if not component and version not in (None, _KUSTOMIZATION_API):
        raise KustomizeError(f"{path}: apiVersion must be {_KUSTOMIZATION_API}")
    unknown = sorted(set(spec) - _FIELDS)
    if unknown:
        raise KustomizeError(
            f"{path}: field {unknown[0]!r} is not supported by hubchaos's renderer "
            f"(supported: {', '.join(sorted(_FIELDS))})"
        )
    if component and "namespace" in spec:
        raise KustomizeError(f"{path}: 'namespace' in a component is not supported")
    return spec


def _add_resource(
    accumulated: _Accumulator, directory: Path, entry: str, stack: tuple[Path, ...], where: Path
) -> None:
    if "://" in entry or entry.startswith(("github.com/", "git@")):
        raise KustomizeError(f"{where}: remote resource {entry!r} is not supported")
    target = directory / entry
    if target.is_dir():
        for obj in _build(target.resolve(), stack, component=False).objects:
            accumulated.add(obj, where)
        return
    for obj in _read_objects(inside_root(directory, entry, where)):
        accumulated.add(obj, where)


def _read_objects(path: Path) -> list[dict[str, Any]]:
    try:
        documents = list(yaml.load_all(path.read_text(), Loader=LOADER))
    except yaml.YAMLError as exc:
        raise KustomizeError(f"{path}: not valid YAML: {exc}") from exc
    objects = []
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict):
            raise KustomizeError(f"{path}: every document must be a Kubernetes object")
        _check_object(document, path)
        objects.append(document)
    return objects


def _check_object(obj: dict[str, Any], path: Path) -> None:
    kind = obj.get("kind")
    if not isinstance(obj.get("apiVersion"), str) or not isinstance(kind, str):
        raise KustomizeError(f"{path}: an object without apiVersion or kind")
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise KustomizeError(f"{path}: {kind} without metadata.name")
    if kind not in NAMESPACED_KINDS:
        raise KustomizeError(
            f"{path}: kind {kind} is not known to hubchaos's renderer "
            f"(known: {', '.join(sorted(NAMESPACED_KINDS))})"
        )


def _apply_patch(objects: list[dict[str, Any]], patch: Any, directory: Path, path: Path) -> None:
    if not isinstance(patch, dict):
        raise KustomizeError(f"{path}: every patches entry must be a mapping")
    unknown = sorted(set(patch) - {"path", "patch", "target"})
    if unknown:
        raise KustomizeError(f"{path}: patches: {unknown[0]!r} is not supported")
    if ("path" in patch) == ("patch" in patch):
        raise KustomizeError(f"{path}: a patch needs exactly one of 'path' and 'patch'")
    if "path" in patch:
        source = inside_root(directory, str(patch["path"]), path)
        text, origin = source.read_text(), str(source)
    else:
        text, origin = str(patch["patch"]), f"{path} (inline patch)"
    try:
        operations = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise KustomizeError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(operations, list):
        raise KustomizeError(
            f"{origin}: strategic-merge patches are not supported by hubchaos's renderer: "
            "write JSON 6902 operations (a list of op/path/value) with a target"
        )
    target = patch.get("target")
    if not isinstance(target, dict) or not {"kind", "name"} <= set(target):
        raise KustomizeError(f"{path}: a JSON 6902 patch needs a target with kind and name")
    unknown = sorted(set(target) - {"group", "version", "kind", "name"})
    if unknown:
        raise KustomizeError(f"{path}: patch target field {unknown[0]!r} is not supported")
    matched = [index for index, obj in enumerate(objects) if _matches(obj, target)]
    if not matched:
        raise KustomizeError(f"{origin}: target {target['kind']}/{target['name']} matches nothing")
    for index in matched:
        try:
            objects[index] = apply_patch(objects[index], operations)
        except PatchError as exc:
            raise KustomizeError(f"{origin}: {_describe(objects[index])}: {exc}") from exc


def _matches(obj: dict[str, Any], target: dict[str, Any]) -> bool:
    group, _, version = obj["apiVersion"].rpartition("/")
    return (
        obj["kind"] == target["kind"]
        and obj["metadata"]["name"] == target["name"]
        and target.get("group", group) == group
        and target.get("version", version) == version
    )


def _object_id(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    group = obj["apiVersion"].rpartition("/")[0]
    metadata = obj["metadata"]
    return group, obj["kind"], str(metadata.get("namespace", "")), metadata["name"]


def _describe(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def _read_yaml_mapping(path: Path) -> dict[str, Any]:
    try:
        data = parse_yaml(path.read_text())
    except yaml.YAMLError as exc:
        raise KustomizeError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise KustomizeError(f"{path}: must be a YAML mapping")
    return copy.deepcopy(data)


if __name__ == "__main__":  # python -m hubchaos.kube.kustomize DIR: print the rendered YAML
    import sys

    try:
        print(yaml.safe_dump_all(build(Path(sys.argv[1])), sort_keys=False), end="")
    except (IndexError, KustomizeError) as error:
        sys.exit(f"kustomize: {error or 'usage: python -m hubchaos.kube.kustomize DIR'}")
