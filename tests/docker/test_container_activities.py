"""The container activities follow the activity rules (no engine needed)."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import ModuleType

import pytest
from chaoslib.discovery.discover import discover_activities
from chaoslib.exceptions import ActivityFailed

from hubchaos.actions import container as actions
from hubchaos.probes import container as probes

MODULES = [(actions, "action"), (probes, "probe")]


@pytest.mark.parametrize(("module", "kind"), MODULES)
def test_every_exported_function_is_discoverable_and_documented(
    module: ModuleType, kind: str
) -> None:
    found = {activity["name"] for activity in discover_activities(module.__name__, kind)}
    assert found == set(module.__all__)
    for name in module.__all__:
        func = getattr(module, name)
        assert func.__doc__ and func.__doc__.strip(), name
        params = list(inspect.signature(func).parameters.values())
        assert [p.name for p in params[-2:]] == ["configuration", "secrets"], name
        for param in params:
            assert param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, (name, param.name)
            assert param.annotation is not inspect.Parameter.empty, (name, param.name)


def test_without_a_docker_stack_the_failure_names_the_state_directory(tmp_path: Path) -> None:
    config = {"hubchaos_state_dir": str(tmp_path / ".hubchaos")}
    with pytest.raises(ActivityFailed, match=rf"docker stack in {tmp_path}.*none is running there"):
        actions.kill_replica(0, "SIGKILL", config)
    with pytest.raises(ActivityFailed, match="none is running there"):
        probes.container_health(config)


def test_arguments_are_checked_before_anything_is_touched(tmp_path: Path) -> None:
    config = {"hubchaos_state_dir": str(tmp_path)}
    with pytest.raises(ActivityFailed, match="argument signal must be one of SIGKILL"):
        actions.kill_replica(0, "SIGSEGV", config)
    with pytest.raises(ActivityFailed, match="argument timeout_seconds must be at least 0"):
        actions.stop_service("app-1", -1, config)
    with pytest.raises(ActivityFailed, match="argument replicas must be at least 1"):
        actions.scale_app_replicas(0, config)
