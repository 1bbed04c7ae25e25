"""Stack actions: change the running hub stack through its environment driver.

The driver is the local stack in the state directory of configuration key
`hubchaos_state_dir` (else env HUBCHAOS_STATE_DIR, which `hubchaos run`
exports, else `.hubchaos`), under the port offset of `hubchaos_port_offset`
(else HUBCHAOS_PORT_OFFSET, else 0).

Each profile or scale change is recorded in the fault ledger before it is
applied, with the profile and replica count it found (window probes judge what
happened after it). `restore_stack`, the rollback, puts back what the first of
them found, so a run leaves the stack as it was; if the runner dies first, the
dead man's switch does (hubchaos.ledger).
"""

import os
import time
from collections.abc import Callable
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos import ledger as fault_ledger
from hubchaos.actions._stack_driver import running_state, stack_driver
from hubchaos.activity.arguments import as_int
from hubchaos.errors import HubchaosError
from hubchaos.ledger import history as fault_history
from hubchaos.stack.driver import StackDriver
from hubchaos.stack.state import StackState

__all__ = ["restart_component", "restore_stack", "scale_replicas", "switch_profile"]

# Probes that scrape every replica read this; it must follow the replica count.
REPLICA_URLS_ENV = "HUBCHAOS_APP_REPLICA_URLS"
MAX_SCALE_FACTOR = 10

RESTORE = "stack.restore"


def _record_change(
    driver: StackDriver, before: StackState, kind: str, what: str, configuration: Configuration
) -> fault_ledger.FaultEntry:
    undo = {
        "action": RESTORE,
        "state_dir": str(driver.state_dir),
        "port_offset": driver.port_offset,
        "profile": before.profile,
        "replicas": before.replicas,
    }
    return fault_ledger.record(kind, f"{driver.state_dir}: {what}", undo, configuration)


def _my_changes(driver: StackDriver, configuration: Configuration) -> list[fault_ledger.FaultEntry]:
    return [
        entry
        for entry in fault_ledger.mine(configuration)
        if entry.undo.get("action") == RESTORE
        and entry.undo.get("state_dir") == str(driver.state_dir)
    ]


def _change(
    driver: StackDriver, what: str, change: Callable[[], StackState]
) -> tuple[StackState, float]:
    """Run one driver call; translate its errors into an ActivityFailed naming the stack."""
    started = time.monotonic()
    try:
        state = change()
    except (HubchaosError, OSError) as exc:
        raise ActivityFailed(f"local stack in {driver.state_dir}: {what}: {exc}") from None
    return state, round(time.monotonic() - started, 3)


def _follow_replicas(state: StackState) -> None:
    # Configuration of env type was read when the run started; the pool
    # probes fall back to the environment, so keep it in step with the stack.
    os.environ[REPLICA_URLS_ENV] = ",".join(state.app_replica_urls)


def _describe(state: StackState, before: StackState, seconds: float) -> dict[str, Any]:
    return {
        "state_dir": state.state_dir,
        "profile": state.profile,
        "replicas": state.replicas,
        "previous": {"profile": before.profile, "replicas": before.replicas},
        "pool_max_per_replica": state.budget.get("pool_max_per_replica"),
        "app_connections_max": state.budget.get("app_connections_max"),
        "app_budget": state.budget.get("app_budget"),
        "fits_budget": state.budget.get("fits_budget"),
        "replica_urls": list(state.app_replica_urls),
        "seconds": seconds,
    }


def switch_profile(
    profile: str,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Switch the running stack to pool `profile` ("fixed" or "incident").

    The role's connection limit is re-applied and every app replica restarts
    with the profile's pool settings. Returns the new profile, replica count,
    pool max per replica, the app budget and how long the switch took.
    """
    driver = stack_driver(configuration)
    before = running_state(driver)
    _record_change(driver, before, "stack:profile", f"{before.profile} -> {profile}", configuration)
    state, seconds = _change(
        driver, f"switch to profile {profile!r}", lambda: driver.set_profile(str(profile))
    )
    _follow_replicas(state)
    return _describe(state, before, seconds)


def scale_replicas(
    replicas: int = 0,
    factor: int = 0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Run `replicas` app replicas, or `factor` times as many as now (give one of them).

    The driver restarts every replica with the profile's pool settings for
    the new count (`fixed` re-derives each pool max from the connection
    budget; `incident` keeps 100 per replica) and points Prometheus at the
    new set. Returns the new and previous counts, the pool max per replica,
    the replicas' URLs and how long scaling took.
    """
    target = as_int("replicas", replicas, 0)
    multiplier = as_int("factor", factor, 0, MAX_SCALE_FACTOR)
    if (target == 0) == (multiplier == 0):
        raise ActivityFailed("scale_replicas: give either replicas or factor (not both)")
    driver = stack_driver(configuration)
    before = running_state(driver)
    wanted = target or before.replicas * multiplier
    _record_change(
        driver, before, "stack:scale", f"{before.replicas} -> {wanted} replicas", configuration
    )
    state, seconds = _change(driver, f"scale to {wanted} replicas", lambda: driver.scale(wanted))
    _follow_replicas(state)
    return _describe(state, before, seconds)


def restart_component(
    component: str,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Stop and start one part of the stack and wait until it is healthy again.

    `component`: postgres, toxiproxy (its proxies are re-created, their
    toxics are gone), receiver, alertmanager, prometheus, exporter, apps
    (every replica) or app-K. Returns the component and how long it took.
    """
    driver = stack_driver(configuration)
    before = running_state(driver)
    fault_history.note("stack:restart", f"{driver.state_dir}: {component}")
    state, seconds = _change(
        driver, f"restart {component!r}", lambda: driver.restart(str(component))
    )
    return {**_describe(state, before, seconds), "component": component}


def restore_stack(
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Put back the profile and replica count the stack had before this run changed them.

    For rollbacks: does nothing when this process changed neither. Returns
    what was restored (`restored`: false when nothing had to be).
    """
    driver = stack_driver(configuration)
    changes = _my_changes(driver, configuration)
    if not changes:
        return {"state_dir": str(driver.state_dir), "restored": False}
    profile, replicas = str(changes[0].undo["profile"]), int(changes[0].undo["replicas"])
    before = running_state(driver)
    state, seconds = before, 0.0
    if before.replicas != replicas:
        state, seconds = _change(
            driver, f"scale back to {replicas} replicas", lambda: driver.scale(replicas)
        )
    if state.profile != profile:
        state, more = _change(
            driver, f"switch back to profile {profile!r}", lambda: driver.set_profile(profile)
        )
        seconds += more
    _follow_replicas(state)
    for entry in changes:
        fault_ledger.settle(entry, configuration)
    return {**_describe(state, before, round(seconds, 3)), "restored": True}
