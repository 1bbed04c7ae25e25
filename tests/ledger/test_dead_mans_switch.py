"""The dead man's switch: a runner that dies (or hangs) gets its faults undone,
read back from the Toxiproxy server itself; a live runner's faults are left alone."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

from hubchaos.ledger.store import FaultLedger
from tests.ledger.conftest import Runner, Server, wait_until

LEASE_LIMIT_S = 15.0
INJECTED = {
    "hub_db": {"enabled": True, "toxics": ["latency_downstream"]},
    "hub_web": {"enabled": False, "toxics": []},
}


def test_sigkill_of_the_runner_is_undone_within_the_lease(
    tmp_path: Path, server: Server, runners: Callable[..., Runner]
) -> None:
    runner = runners(tmp_path, server.url, 10, "latency:hub_db", "disable:hub_web")
    assert server.faults() == INJECTED
    assert [e.kind for e in FaultLedger(tmp_path).entries()] == ["toxic:latency", "proxy-disabled"]
    runner.kill(signal.SIGKILL)
    seconds = wait_until(server.at_baseline, LEASE_LIMIT_S)
    assert seconds is not None, f"still faulty after {LEASE_LIMIT_S}s: {server.faults()}"
    assert wait_until(lambda: FaultLedger(tmp_path).entries() == [], 5) is not None
    log = (tmp_path / "ledger" / "watchdog.log").read_text()
    assert "undid toxic:latency hub_db/latency_downstream" in log
    assert "undid proxy-disabled hub_web" in log


def test_a_live_runner_keeps_its_faults_and_a_hung_one_loses_them(
    tmp_path: Path, server: Server, runners: Callable[..., Runner]
) -> None:
    lease_s = 2.0
    runner = runners(tmp_path, server.url, lease_s, "latency:hub_db")
    time.sleep(3 * lease_s)  # heartbeats renew the lease: nothing is undone
    assert server.faults() == {"hub_db": {"enabled": True, "toxics": ["latency_downstream"]}}
    runner.kill(signal.SIGSTOP)  # alive, but no longer beating
    seconds = wait_until(server.at_baseline, lease_s + 5)
    assert seconds is not None, server.faults()
    assert seconds >= lease_s * 0.5  # it waited for the lease to run out
    assert runner.proc.poll() is None  # the switch undoes faults; it does not kill runners


def test_toxiproxy_unreachable_during_the_undo_is_retried_until_it_is_back(
    tmp_path: Path, server: Server, runners: Callable[..., Runner]
) -> None:
    runner = runners(tmp_path, server.url, 10, "latency:hub_db", "disable:hub_web")
    server.freeze()  # accepts nothing: every undo times out
    runner.kill(signal.SIGKILL)
    time.sleep(8)
    assert len(FaultLedger(tmp_path).entries()) == 2  # kept while they cannot be undone
    server.thaw()
    assert wait_until(server.at_baseline, LEASE_LIMIT_S) is not None, server.faults()
    assert wait_until(lambda: FaultLedger(tmp_path).entries() == [], 5) is not None
    assert "could not undo" in (tmp_path / "ledger" / "watchdog.log").read_text()
