"""The fault matrix: each kind of injection x each way a run can end leaves the
stack at its baseline within the lease, judged from the servers' own state
(Toxiproxy's proxies, pg_stat_activity, stack.json, /proc), not the ledger's.

Kinds: toxic, disabled proxy, DB flood and HTTP spike (foreground), scale
change and profile switch. Endings: SIGKILL at a random moment of the
method, SIGTERM, SIGINT, SIGHUP, an activity raising, Toxiproxy unreachable
during the rollback and back later. A representative matrix keeps CI short:
every kind meets SIGKILL, every ending meets Toxiproxy faults.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.experiments.conftest import HubStack
from tests.ledger.stack_run import (
    LEASE_LIMIT_S,
    at_baseline,
    describe,
    ledger_kinds,
    own_connections,
    server_faults,
    start_run,
    wait_until,
)

pytestmark = [pytest.mark.stack, pytest.mark.slow]

PROXY_FAULTS = {
    "hub_db": {"enabled": True, "toxics": ["latency_downstream"]},
    "hub_web": {"enabled": False, "toxics": []},
}
# a changed stack must be restarted back (replicas restart twice): time on top of the lease
STACK_RESTORE_S = 45.0


def _finish(run: subprocess.Popen[str], timeout: float = 90) -> str:
    try:
        _, stderr = run.communicate(timeout=timeout)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    return stderr


def _wait_for_proxy_faults(hub: HubStack, run: subprocess.Popen[str]) -> None:
    injected = wait_until(
        lambda: server_faults(hub) == PROXY_FAULTS and own_connections(hub) >= 10, 60
    )
    if injected is None:
        run.kill()
        pytest.fail(f"faults never in place: {describe(hub)}\n{_finish(run)[-3000:]}")


def _journal(out_dir: Path, fixture: str) -> dict:
    return json.loads((out_dir / f"{Path(fixture).stem}.journal.json").read_text())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
                         ids=["SIGTERM", "SIGINT", "SIGHUP"])  # fmt: skip
def test_a_signal_mid_method_exits_5_with_everything_undone(
    hub_stack: HubStack,
    tmp_path: Path,
    signum: signal.Signals,
) -> None:
    hub_stack.use_profile("fixed")
    run = start_run(hub_stack, "proxy-faults.yaml", tmp_path)
    _wait_for_proxy_faults(hub_stack, run)
    run.send_signal(signum)
    stderr = _finish(run)
    assert run.returncode == 5, stderr[-3000:]
    assert "interrupted" in stderr
    journal = _journal(tmp_path, "proxy-faults.yaml")
    assert journal["status"] == "interrupted"
    assert journal["hubchaos_safety"]["clean"] is True, journal["hubchaos_safety"]
    assert (tmp_path / "proxy-faults.md").exists()  # the report is written too
    assert wait_until(lambda: at_baseline(hub_stack), LEASE_LIMIT_S) is not None, describe(
        hub_stack
    )


def test_sigkill_at_a_random_moment_is_undone_by_the_switch(
    hub_stack: HubStack,
    tmp_path: Path,
) -> None:
    hub_stack.use_profile("fixed")
    delay = random.Random().uniform(0.0, 3.0)
    run = start_run(hub_stack, "proxy-faults.yaml", tmp_path)
    assert wait_until(lambda: ledger_kinds(hub_stack) != [], 60) is not None, _finish(run)
    time.sleep(delay)  # somewhere between the first injection and the wait
    run.kill()
    run.communicate()  # reaps it and closes its pipes
    seconds = wait_until(lambda: at_baseline(hub_stack), LEASE_LIMIT_S)
    assert seconds is not None, f"killed {delay:.2f}s in: {describe(hub_stack)}"


def test_sigterm_during_a_foreground_flood_is_not_swallowed(
    hub_stack: HubStack,
    tmp_path: Path,
) -> None:
    hub_stack.use_profile("fixed")
    run = start_run(hub_stack, "foreground-flood.yaml", tmp_path)
    spiking = wait_until(lambda: any(k.startswith("flood:") for k in ledger_kinds(hub_stack)), 60)
    assert spiking is not None, describe(hub_stack)
    time.sleep(1.0)  # the spike's loop is running in the main thread
    started = time.monotonic()
    run.send_signal(signal.SIGTERM)
    stderr = _finish(run)
    assert run.returncode == 5, stderr[-3000:]
    assert time.monotonic() - started < 30  # not after the 60 s spike
    assert _journal(tmp_path, "foreground-flood.yaml")["status"] == "interrupted"
    assert wait_until(lambda: at_baseline(hub_stack), LEASE_LIMIT_S) is not None, describe(
        hub_stack
    )


def test_a_second_signal_exits_at_once_and_leaves_the_rest_to_the_switch(
    hub_stack: HubStack,
    tmp_path: Path,
) -> None:
    hub_stack.use_profile("fixed")
    run = start_run(hub_stack, "proxy-faults.yaml", tmp_path)
    _wait_for_proxy_faults(hub_stack, run)
    run.send_signal(signal.SIGTERM)
    run.send_signal(signal.SIGTERM)
    stderr = _finish(run, timeout=10)
    assert run.returncode == 5, stderr[-3000:]
    assert wait_until(lambda: at_baseline(hub_stack), LEASE_LIMIT_S) is not None, describe(
        hub_stack
    )


def test_an_activity_raising_still_ends_at_the_baseline(
    hub_stack: HubStack,
    tmp_path: Path,
) -> None:
    hub_stack.use_profile("fixed")
    run = start_run(hub_stack, "activity-raises.yaml", tmp_path)
    stderr = _finish(run)
    assert run.returncode != 0, stderr[-3000:]
    safety = _journal(tmp_path, "activity-raises.yaml")["hubchaos_safety"]
    assert safety["clean"] is True, safety
    assert server_faults(hub_stack) == {}  # at once: the safety control undid it
    assert wait_until(lambda: at_baseline(hub_stack), LEASE_LIMIT_S) is not None, describe(
        hub_stack
    )


def test_toxiproxy_unreachable_during_the_rollback_is_undone_once_it_is_back(
    hub_stack: HubStack,
    tmp_path: Path,
) -> None:
    hub_stack.use_profile("fixed")
    record = hub_stack.stack.table.record("toxiproxy")
    assert record is not None
    run = start_run(hub_stack, "proxy-faults.yaml", tmp_path)
    _wait_for_proxy_faults(hub_stack, run)
    import os

    os.kill(record.pid, signal.SIGSTOP)  # the API accepts nothing: every undo times out
    try:
        run.send_signal(signal.SIGTERM)
        stderr = _finish(run, timeout=120)
        assert run.returncode == 5, stderr[-3000:]
        safety = _journal(tmp_path, "proxy-faults.yaml")["hubchaos_safety"]
        assert safety["clean"] is False  # it says so, it does not pretend
        assert ledger_kinds(hub_stack), "the faults it could not undo stay in the ledger"
    finally:
        os.kill(record.pid, signal.SIGCONT)
    assert wait_until(lambda: at_baseline(hub_stack), LEASE_LIMIT_S + 30) is not None, describe(
        hub_stack
    )


def test_sigkill_after_a_scale_change_and_a_profile_switch_puts_the_stack_back(
    hub_stack: HubStack,
    tmp_path: Path,
) -> None:
    hub_stack.use_profile("fixed")
    run = start_run(hub_stack, "stack-change.yaml", tmp_path)

    def changed() -> bool:
        state = hub_stack.stack.state()
        return state is not None and state.profile == "incident" and state.replicas == 3

    assert wait_until(changed, 120) is not None, _finish(run)[-3000:]
    run.kill()
    run.communicate()  # reaps it and closes its pipes
    seconds = wait_until(lambda: at_baseline(hub_stack), STACK_RESTORE_S)
    assert seconds is not None, describe(hub_stack)


def test_run_refuses_a_stack_with_faults_nobody_owns_and_status_names_them(
    hub_stack: HubStack,
    tmp_path: Path,
) -> None:
    hub_stack.use_profile("fixed")
    state = hub_stack.stack.state()
    assert state is not None
    httpx.post(
        f"{state.toxiproxy_url}/proxies/hub_db/toxics",
        json={"name": "stray", "type": "latency", "attributes": {"latency": 150}},
        timeout=5,
    ).raise_for_status()
    # a disabled proxy makes the stack unhealthy too: the refusal must name it, not the health
    httpx.post(f"{state.toxiproxy_url}/proxies/hub_web", json={"enabled": False}, timeout=5)
    try:
        run = start_run(hub_stack, "activity-raises.yaml", tmp_path)
        stderr = _finish(run)
        assert run.returncode == 3, stderr[-3000:]
        assert "fault owned by no run: toxic stray on hub_db" in stderr
        assert "fault owned by no run: proxy hub_web disabled" in stderr
        assert "hubchaos recover" in stderr
        status = subprocess.run(
            [*_hubchaos(), "status", "--state-dir", str(hub_stack.state_dir)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert status.returncode == 1
        assert "fault: toxic stray on hub_db (latency downstream" in status.stdout
        assert "latency=150" in status.stdout
        recover = subprocess.run(
            [*_hubchaos(), "recover", "--state-dir", str(hub_stack.state_dir)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert recover.returncode == 0, recover.stderr
        assert "removed (owned by no run): toxic stray on hub_db" in recover.stdout
        assert "removed (owned by no run): proxy hub_web disabled" in recover.stdout
    finally:
        httpx.delete(f"{state.toxiproxy_url}/proxies/hub_db/toxics/stray", timeout=5)
        httpx.post(f"{state.toxiproxy_url}/proxies/hub_web", json={"enabled": True}, timeout=5)
    status = subprocess.run(
        [*_hubchaos(), "status", "--state-dir", str(hub_stack.state_dir)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert status.returncode == 0, status.stdout
    assert "faults: none" in status.stdout


def _hubchaos() -> list[str]:
    import sys

    return [sys.executable, "-m", "hubchaos"]
