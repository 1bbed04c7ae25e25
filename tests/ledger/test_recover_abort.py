"""`hubchaos recover` and `hubchaos abort` against a real Toxiproxy-compatible server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from hubchaos.ledger.owner import Owner
from hubchaos.ledger.store import FaultLedger
from hubchaos.ledger.undo import undo_delete_toxic
from tests.ledger.conftest import REPO, Runner, Server


def _hubchaos(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubchaos", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def _add_latency(server: Server, proxy: str, name: str) -> None:
    httpx.post(
        f"{server.url}/proxies/{proxy}/toxics",
        json={"name": name, "type": "latency", "attributes": {"latency": 250}},
        timeout=5,
    ).raise_for_status()


def test_recover_undoes_the_ledger_then_removes_faults_nobody_owns(
    tmp_path: Path, server: Server
) -> None:
    # a dead runner's entry (no watchdog ever ran for it) and two faults no ledger knows
    ledger = FaultLedger(tmp_path)
    dead = Owner(2**22 + 4242, 1)
    ledger.record(
        "toxic:latency", "hub_db/owned", undo_delete_toxic(server.url, "hub_db", "owned"), dead
    )
    _add_latency(server, "hub_db", "owned")
    _add_latency(server, "hub_db", "stray")
    httpx.post(f"{server.url}/proxies/hub_web", json={"enabled": False}, timeout=5)

    result = _hubchaos("recover", "--state-dir", str(tmp_path), "--toxiproxy-url", server.url)

    assert result.returncode == 0, result.stderr
    assert "undone (ledger): toxic:latency hub_db/owned" in result.stdout
    assert "removed (owned by no run): toxic stray on hub_db (latency downstream" in result.stdout
    assert "latency=250" in result.stdout
    assert "removed (owned by no run): proxy hub_web disabled" in result.stdout
    assert server.at_baseline(), server.faults()
    assert ledger.entries() == []
    again = _hubchaos("recover", "--state-dir", str(tmp_path), "--toxiproxy-url", server.url)
    assert again.returncode == 0 and "nothing to recover" in again.stdout


def test_recover_fails_and_keeps_the_entry_while_toxiproxy_is_unreachable(
    tmp_path: Path, server: Server
) -> None:
    ledger = FaultLedger(tmp_path)
    gone = "http://127.0.0.1:9"  # discard port: nothing listens
    ledger.record("toxic:latency", "hub_db/x", undo_delete_toxic(gone, "hub_db", "x"), Owner(1, 1))
    result = _hubchaos("recover", "--state-dir", str(tmp_path), "--toxiproxy-url", gone)
    assert result.returncode == 1
    assert "could not undo: toxic:latency hub_db/x" in result.stderr
    assert len(ledger.entries()) == 1


def test_abort_stops_the_runner_from_another_terminal_and_recovers(
    tmp_path: Path, server: Server, runners: Callable[..., Runner]
) -> None:
    runner = runners(tmp_path, server.url, 10, "latency:hub_db", "disable:hub_web")
    result = _hubchaos(
        "abort", "--state-dir", str(tmp_path), "--toxiproxy-url", server.url, "--grace", "5"
    )
    assert result.returncode == 0, result.stderr
    assert f"stopping the run of pid {runner.proc.pid} (SIGTERM)" in result.stdout
    assert runner.proc.wait(timeout=5) != 0
    assert server.at_baseline(), server.faults()
    assert FaultLedger(tmp_path).entries() == []


def test_abort_with_no_run_says_so(tmp_path: Path, server: Server) -> None:
    result = _hubchaos("abort", "--state-dir", str(tmp_path), "--toxiproxy-url", server.url)
    assert result.returncode == 0
    assert "no run is active on this stack" in result.stdout
