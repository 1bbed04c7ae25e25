"""JSON Patch (RFC 6902) on plain YAML/JSON data: the operations kustomize patches use.

Supported: add, remove, replace, test. move and copy are refused: the hub's
manifests do not need them, and an unsupported operation must fail loudly
rather than be half applied.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["PatchError", "apply_patch"]

_OPERATIONS = ("add", "remove", "replace", "test")


class PatchError(ValueError):
    """A patch that is malformed or does not apply to its document."""


def apply_patch(document: Any, operations: list[Any]) -> Any:
    """A patched deep copy of `document`; PatchError names the failing operation."""
    result = copy.deepcopy(document)
    for number, operation in enumerate(operations, start=1):
        try:
            result = _apply_one(result, operation)
        except PatchError as exc:
            raise PatchError(f"operation {number}: {exc}") from None
    return result


def _apply_one(document: Any, operation: Any) -> Any:
    if not isinstance(operation, dict):
        raise PatchError("must be a mapping with 'op' and 'path'")
    op = operation.get("op")
    if op not in _OPERATIONS:
        raise PatchError(f"op {op!r} is not supported (use one of {', '.join(_OPERATIONS)})")
    unknown = set(operation) - {"op", "path", "value"}
    if unknown:
        raise PatchError(f"unexpected keys {sorted(unknown)}")
    path = operation.get("path")
    if not isinstance(path, str):
        raise PatchError("'path' must be a string")
    if op != "remove" and "value" not in operation:
        raise PatchError(f"{op} {path}: 'value' is missing")
    tokens = _tokens(path)
    if not tokens:
        if op == "test":
            _test(document, operation["value"], path)
            return document
        if op == "remove":
            raise PatchError("cannot remove the whole document")
        return copy.deepcopy(operation["value"])
    parent = _walk(document, tokens[:-1], path)
    last = tokens[-1]
    if op == "add":
        _add(parent, last, copy.deepcopy(operation["value"]), path)
    elif op == "remove":
        _child(parent, last, path)
        _delete(parent, last)
    elif op == "replace":
        _child(parent, last, path)
        _set(parent, last, copy.deepcopy(operation["value"]))
    else:
        _test(_child(parent, last, path), operation["value"], path)
    return document


def _tokens(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"path {path!r} must start with '/'")
    return [token.replace("~1", "/").replace("~0", "~") for token in path[1:].split("/")]


def _walk(document: Any, tokens: list[str], path: str) -> Any:
    node = document
    for token in tokens:
        node = _child(node, token, path)
    return node


def _child(node: Any, token: str, path: str) -> Any:
    if isinstance(node, dict):
        if token not in node:
            raise PatchError(f"path {path}: no key {token!r}")
        return node[token]
    if isinstance(node, list):
        return node[_index(node, token, path, allow_end=False)]
    raise PatchError(f"path {path}: {token!r} is below a scalar")


def _index(node: list[Any], token: str, path: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(node)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise PatchError(f"path {path}: {token!r} is not a list index")
    index = int(token)
    limit = len(node) + (1 if allow_end else 0)
    if index >= limit:
        raise PatchError(f"path {path}: index {index} is out of range (length {len(node)})")
    return index


def _add(parent: Any, token: str, value: Any, path: str) -> None:
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, token, path, allow_end=True), value)
    else:
        raise PatchError(f"path {path}: cannot add below a scalar")


def _set(parent: Any, token: str, value: Any) -> None:
    if isinstance(parent, dict):
        parent[token] = value
    else:
        parent[int(token)] = value


def _delete(parent: Any, token: str) -> None:
    if isinstance(parent, dict):
        del parent[token]
    else:
        del parent[int(token)]


def _test(actual: Any, expected: Any, path: str) -> None:
    if actual != expected:
        raise PatchError(f"test {path}: found {actual!r}, expected {expected!r}")
