"""Stack actions against a real local stack: scale, switch profile, restart, restore."""

from __future__ import annotations

import inspect
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from chaoslib.discovery.discover import discover_activities
from chaoslib.exceptions import ActivityFailed, InvalidActivity
from chaoslib.provider.python import validate_python_activity

from hubchaos.actions import stack as stack_actions
from hubchaos.actions.flood import stop_floods
from hubchaos.actions.replica_spike import http_spike_all_replicas
from hubchaos.ledger import history as fault_history
from hubchaos.stack.local import LocalStack
from tests.stack.conftest import free_port_offset

MODULE = "hubchaos.actions.stack"


def _config(state_dir: Path, offset: int = 0) -> dict[str, Any]:
    return {"hubchaos_state_dir": str(state_dir), "hubchaos_port_offset": str(offset)}


# --- no stack needed ---------------------------------------------------------------


def test_activities_follow_the_chaoslib_rules() -> None:
    names = {a["name"] for a in discover_activities(MODULE, "action")}
    assert names == set(stack_actions.__all__)
    for name in stack_actions.__all__:
        function = getattr(stack_actions, name)
        assert function.__doc__
        parameters = list(inspect.signature(function).parameters.values())
        assert [p.name for p in parameters[-2:]] == ["configuration", "secrets"]
        assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters)


@pytest.mark.parametrize(
    ("func", "arguments"),
    [
        ("scale_replicas", {"factor": 2}),
        ("scale_replicas", {"replicas": 4}),
        ("switch_profile", {"profile": "incident"}),
        ("restart_component", {"component": "apps"}),
        ("restore_stack", {}),
    ],
)
def test_experiment_arguments_validate(func: str, arguments: dict[str, Any]) -> None:
    # Fails by raising: chaoslib raises InvalidActivity for a bad argument or signature
    # (the test below shows it does for a misspelt or missing one).
    validate_python_activity(
        {
            "name": func,
            "type": "action",
            "provider": {"type": "python", "module": MODULE, "func": func, "arguments": arguments},
        }
    )


@pytest.mark.parametrize(
    ("func", "arguments", "complaint"),
    [
        ("scale_replicas", {"factr": 2}, "argument 'factr' is not part of the function"),
        ("switch_profile", {}, "required argument 'profile' is missing"),
    ],
)
def test_experiment_arguments_that_do_not_fit_are_rejected(
    func: str, arguments: dict[str, Any], complaint: str
) -> None:
    # The other side of test_experiment_arguments_validate: the same check refuses these.
    with pytest.raises(InvalidActivity, match=complaint):
        validate_python_activity(
            {
                "name": func,
                "type": "action",
                "provider": {
                    "type": "python",
                    "module": MODULE,
                    "func": func,
                    "arguments": arguments,
                },
            }
        )


def test_no_running_stack_is_an_activity_failure_naming_the_state_dir(tmp_path: Path) -> None:
    with pytest.raises(
        ActivityFailed, match=re.escape(str(tmp_path)) + ".*no stack is running there"
    ):
        stack_actions.scale_replicas(factor=2, configuration=_config(tmp_path))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "give either replicas or factor"),
        ({"replicas": 4, "factor": 2}, "give either replicas or factor"),
        ({"factor": 11}, "factor must be at least 0 and at most 10"),
        ({"replicas": "many"}, "replicas must be an integer"),
    ],
)
def test_scale_arguments_are_checked_before_anything_runs(
    tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ActivityFailed, match=message):
        stack_actions.scale_replicas(**arguments, configuration=_config(tmp_path))


def test_a_bad_port_offset_is_named(tmp_path: Path) -> None:
    config = {"hubchaos_state_dir": str(tmp_path), "hubchaos_port_offset": "seven"}
    with pytest.raises(ActivityFailed, match=r"hubchaos_port_offset.*must be an integer"):
        stack_actions.restart_component("apps", configuration=config)


def test_the_state_dir_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBCHAOS_STATE_DIR", str(tmp_path / "from-env"))
    with pytest.raises(ActivityFailed, match="from-env"):
        stack_actions.switch_profile("incident")


def test_restore_without_changes_does_nothing(tmp_path: Path) -> None:
    result = stack_actions.restore_stack(configuration=_config(tmp_path))
    assert result == {"state_dir": str(tmp_path.absolute()), "restored": False}


# --- a real stack --------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    state_dir = tmp_path_factory.mktemp("stack-actions") / "state"
    offset = free_port_offset()
    driver = LocalStack(state_dir, port_offset=offset, progress=lambda line: None)
    saved = os.environ.get(stack_actions.REPLICA_URLS_ENV)
    try:
        driver.up(profile="fixed", replicas=2, toxiproxy="embedded")
        yield {"driver": driver, "config": _config(state_dir, offset)}
    finally:
        driver.down(purge=True)
        if saved is None:
            os.environ.pop(stack_actions.REPLICA_URLS_ENV, None)
        else:
            os.environ[stack_actions.REPLICA_URLS_ENV] = saved


def _serves(url: str) -> bool:
    return httpx.get(f"{url}/readyz", timeout=5).status_code == 200


@pytest.mark.stack
@pytest.mark.slow
def test_scale_out_rederives_the_pool_and_restore_scales_back(live: dict[str, Any]) -> None:
    fault_history.clear()
    result = stack_actions.scale_replicas(factor=2, configuration=live["config"])
    assert (result["replicas"], result["previous"]["replicas"]) == (4, 2)
    # the fixed profile re-derives each pool from the budget for four replicas
    expected = live["driver"].profiles.resolve("fixed", 4)
    assert result["pool_max_per_replica"] == expected.pool.max < 20
    assert result["fits_budget"] is True
    assert result["app_connections_max"] <= result["app_budget"]
    assert len(result["replica_urls"]) == 4 and all(_serves(u) for u in result["replica_urls"])
    assert os.environ[stack_actions.REPLICA_URLS_ENV].split(",") == result["replica_urls"]
    fault = fault_history.last_fault()
    assert fault is not None and fault.kind == "stack:scale" and "2 -> 4" in fault.target

    restored = stack_actions.restore_stack(configuration=live["config"])
    assert restored["restored"] is True
    state = live["driver"].state()
    assert (state.replicas, state.profile) == (2, "fixed")
    assert len(os.environ[stack_actions.REPLICA_URLS_ENV].split(",")) == 2


@pytest.mark.stack
@pytest.mark.slow
def test_switching_profile_is_undone_by_restore(live: dict[str, Any]) -> None:
    result = stack_actions.switch_profile("incident", configuration=live["config"])
    assert (result["profile"], result["pool_max_per_replica"]) == ("incident", 100)
    assert result["fits_budget"] is False
    fault = fault_history.last_fault()
    assert (
        fault is not None and fault.kind == "stack:profile" and "fixed -> incident" in fault.target
    )

    stack_actions.restore_stack(configuration=live["config"])
    state = live["driver"].state()
    assert state.profile == "fixed"
    assert (
        state.budget["pool_max_per_replica"] == live["driver"].profiles.resolve("fixed", 2).pool.max
    )


@pytest.mark.stack
@pytest.mark.slow
def test_restart_component_replaces_the_process(live: dict[str, Any]) -> None:
    before = live["driver"].state().pids["app-1"]
    result = stack_actions.restart_component("app-1", configuration=live["config"])
    after = live["driver"].state().pids["app-1"]
    assert result["component"] == "app-1" and after != before
    assert _serves(result["replica_urls"][0])
    fault = fault_history.last_fault()
    assert fault is not None and fault.kind == "stack:restart" and fault.target.endswith("app-1")


@pytest.mark.stack
@pytest.mark.slow
def test_unknown_component_names_the_choices(live: dict[str, Any]) -> None:
    with pytest.raises(ActivityFailed, match=r"unknown component 'bogus': choose one of .*app-2"):
        stack_actions.restart_component("bogus", configuration=live["config"])


@pytest.mark.stack
@pytest.mark.slow
def test_a_profile_that_cannot_fit_is_refused_and_the_stack_keeps_running(
    live: dict[str, Any],
) -> None:
    # fixed refuses more replicas than the budget has connections for
    with pytest.raises(ActivityFailed, match="scale to 60 replicas"):
        stack_actions.scale_replicas(replicas=60, configuration=live["config"])
    stack_actions.restore_stack(configuration=live["config"])
    state = live["driver"].state()
    assert state.replicas == 2 and all(_serves(u) for u in state.app_replica_urls)


# --- the spread HTTP spike, which follows the replica list of the same driver ---------


def test_spread_spike_needs_a_running_stack(tmp_path: Path) -> None:
    with pytest.raises(ActivityFailed, match="no stack is running there"):
        http_spike_all_replicas(duration_seconds=1, configuration=_config(tmp_path))
    with pytest.raises(ActivityFailed, match="concurrency_per_replica must be at most 1000"):
        http_spike_all_replicas(concurrency_per_replica=5000, configuration=_config(tmp_path))


@pytest.mark.stack
@pytest.mark.slow
def test_spread_spike_reaches_every_replica(live: dict[str, Any]) -> None:
    result = http_spike_all_replicas(
        concurrency_per_replica=2, duration_seconds=2, configuration=live["config"]
    )
    urls = live["driver"].state().app_replica_urls
    assert result["replica_count"] == 2 and set(result["replicas"]) == set(urls)
    assert result["errors"] == {}
    for stats in result["replicas"].values():
        assert stats["status_counts"].get("200", 0) > 0


@pytest.mark.stack
@pytest.mark.slow
def test_stop_floods_ends_the_spread_spike_early(live: dict[str, Any]) -> None:
    outcome: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: outcome.update(
            http_spike_all_replicas(
                concurrency_per_replica=2, duration_seconds=60, configuration=live["config"]
            )
        )
    )
    started = time.monotonic()
    worker.start()
    time.sleep(2)
    stop_floods(timeout_seconds=20)
    worker.join(timeout=30)
    assert not worker.is_alive() and time.monotonic() - started < 30
    assert outcome["replica_count"] == 2


@pytest.mark.stack
@pytest.mark.slow
def test_spread_spike_checks_its_routes_before_any_traffic(live: dict[str, Any]) -> None:
    with pytest.raises(ActivityFailed, match="route 1: unsupported HTTP method"):
        http_spike_all_replicas(
            routes=[{"method": "BREW", "path": "/"}], configuration=live["config"]
        )
