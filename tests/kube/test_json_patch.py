"""JSON 6902 operations: each one applied, each misuse refused with its reason."""

from __future__ import annotations

import pytest

from hubchaos.kube.json_patch import PatchError, apply_patch

DOC = {"spec": {"containers": [{"name": "a", "args": ["x"]}], "replicas": 1}}


def test_add_replace_remove_and_test_apply_in_order_without_touching_the_input() -> None:
    patched = apply_patch(
        DOC,
        [
            {"op": "test", "path": "/spec/replicas", "value": 1},
            {"op": "replace", "path": "/spec/replicas", "value": 3},
            {"op": "add", "path": "/spec/containers/0/args/-", "value": "y"},
            {"op": "add", "path": "/spec/containers/0/args/0", "value": "w"},
            {"op": "add", "path": "/spec/containers/0/command", "value": ["run"]},
            {"op": "remove", "path": "/spec/containers/0/name"},
            {"op": "add", "path": "/metadata~1x", "value": {"a~b": 1}},
        ],
    )
    assert patched == {
        "spec": {"containers": [{"args": ["w", "x", "y"], "command": ["run"]}], "replicas": 3},
        "metadata/x": {"a~b": 1},
    }
    assert DOC["spec"]["replicas"] == 1  # the input is left alone


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        ({"op": "move", "path": "/spec", "from": "/x"}, "op 'move' is not supported"),
        ({"op": "replace", "path": "/spec/nothing", "value": 1}, "no key 'nothing'"),
        ({"op": "remove", "path": "/spec/containers/3"}, "index 3 is out of range"),
        ({"op": "add", "path": "/spec/containers/01", "value": 1}, "'01' is not a list index"),
        ({"op": "add", "path": "spec", "value": 1}, "must start with '/'"),
        ({"op": "replace", "path": "/spec/replicas"}, "'value' is missing"),
        ({"op": "test", "path": "/spec/replicas", "value": 2}, "found 1, expected 2"),
        ({"op": "add", "path": "/spec/replicas/x", "value": 1}, "below a scalar"),
        ("replace", "must be a mapping"),
    ],
)
def test_a_bad_operation_is_refused_naming_its_number_and_cause(
    operation: object, message: str
) -> None:
    with pytest.raises(PatchError, match=f"operation 2: .*{message}"):
        apply_patch(DOC, [{"op": "test", "path": "/spec/replicas", "value": 1}, operation])
