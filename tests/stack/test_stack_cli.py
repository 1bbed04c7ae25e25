"""`hubchaos up / status / down` as a user runs them: bad input, failures, cleanup.

Every case checks the promise that matters: one clear line, the right exit
status, and no process or port left behind.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubchaos.stack.local.processes import ProcessRecord, ProcessTable
from hubchaos.stack.ports import Ports
from tests.stack.conftest import (
    assert_nothing_left,
    free_port_offset,
    live_processes_under,
    run_cli,
)


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hubchaos: error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "chaos"], "unknown profile 'chaos': choose one of fixed, incident"),
        (["--replicas", "0"], "--replicas must be at least 1 (got 0)"),
        (["--replicas", "-2"], "--replicas must be at least 1 (got -2)"),
        (["--env", "docker", "--toxiproxy", "embedded"], "--toxiproxy is for --env local"),
        (["--offline"], "--offline is for --env docker"),
        (["--toxiproxy", "/nonexistent/toxiproxy-server"], "--toxiproxy /nonexistent/"),
        (["--port-offset", "99999"], "port offset must be between"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_starts_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    state_dir = tmp_path / "state"
    result = run_cli("up", "--state-dir", str(state_dir), *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in _one_error_line(result)
    assert not (state_dir / "stack.json").exists()
    assert not (state_dir / "pids").exists()


def test_a_missing_program_names_the_package_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run_cli("up", "--state-dir", str(tmp_path / "state"), cwd=tmp_path,
                     env={"PATH": str(empty)})  # fmt: skip
    assert result.returncode == 2
    line = _one_error_line(result)
    assert "prometheus not found on PATH: install the Debian package 'prometheus'" in line


def test_status_and_down_without_a_stack(tmp_path: Path) -> None:
    status = run_cli("status", "--state-dir", str(tmp_path / "none"), cwd=tmp_path)
    assert status.returncode == 1
    assert "no stack is running" in status.stdout
    down = run_cli("down", "--state-dir", str(tmp_path / "none"), cwd=tmp_path)
    assert down.returncode == 0
    assert "nothing was running" in down.stdout


# ----------------------------------------------------- against real processes


@dataclass(frozen=True)
class Place:
    """One state directory and port offset shared by the tests below (warm database)."""

    root: Path
    state_dir: Path
    offset: int

    def args(self) -> list[str]:
        return ["--state-dir", str(self.state_dir), "--port-offset", str(self.offset)]

    def records(self) -> list[ProcessRecord]:
        return ProcessTable(self.state_dir / "pids", self.state_dir / "logs").records()


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Place]:
    root = tmp_path_factory.mktemp("stack-cli")
    here = Place(root, root / "state", free_port_offset())
    try:
        yield here
    finally:
        run_cli("down", "--purge", "--state-dir", str(here.state_dir), cwd=root)
        assert live_processes_under(here.state_dir) == []


@pytest.mark.stack
@pytest.mark.slow
def test_up_with_a_toxiproxy_binary_then_down_keeps_only_the_database(place: Place) -> None:
    # Something with toxiproxy-server's command line (-host, -port) that exec's
    # into the embedded server, the way a real binary is handed over by PATH.
    binary = place.root / "toxiproxy-server"
    binary.write_text(
        "#!/bin/sh\n"
        'while [ $# -gt 0 ]; do case "$1" in -host) h=$2; shift 2;; -port) p=$2; shift 2;;'
        " *) shift;; esac; done\n"
        f'exec {sys.executable} -m hubchaos proxy --host "$h" --port "$p"\n'
    )
    binary.chmod(0o755)
    up = run_cli("up", *place.args(), "--toxiproxy", str(binary), cwd=place.root)
    assert up.returncode == 0, up.stderr
    assert "fixed, 2 replicas x (pool max 20 + 1 health check) = 42 connections" in up.stdout
    assert f"http://127.0.0.1:{18000 + place.offset}" in up.stdout
    assert "waiting for app-2 ... ready in" in up.stderr
    state = json.loads((place.state_dir / "stack.json").read_text())
    assert state["toxiproxy"] == {
        "kind": "binary",
        "binary": str(binary),
        "command": f"{binary} -host 127.0.0.1 -port {8474 + place.offset}",
    }

    status = run_cli("status", "--state-dir", str(place.state_dir), "--json", cwd=place.root)
    assert status.returncode == 0, status.stdout
    assert json.loads(status.stdout)["healthy"] is True

    records = place.records()
    down = run_cli("down", "--state-dir", str(place.state_dir), cwd=place.root)
    assert down.returncode == 0, down.stderr
    assert "stopped: app-1, app-2" in down.stdout and "toxiproxy" in down.stdout
    assert_nothing_left(place.state_dir, place.offset, records)
    assert (place.state_dir / "postgres" / "data" / "PG_VERSION").exists()  # kept for a warm up
    assert not (place.state_dir / "stack.json").exists()

    status = run_cli("status", "--state-dir", str(place.state_dir), cwd=place.root)
    assert status.returncode == 1


@pytest.mark.stack
@pytest.mark.slow
def test_down_cleans_up_after_an_up_killed_halfway(place: Place) -> None:
    up = subprocess.Popen(
        [sys.executable, "-m", "hubchaos", "up", *place.args(), "--toxiproxy", "embedded"],
        cwd=place.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pidfile = place.state_dir / "pids" / "app-1.json"
    deadline = time.monotonic() + 120
    while not pidfile.exists() and up.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pidfile.exists(), "up never got as far as the app replicas"
    up.send_signal(signal.SIGKILL)  # no chance to clean up after itself
    up.wait(timeout=10)
    records = place.records()
    assert {"toxiproxy", "prometheus", "app-1"} <= {r.name for r in records}
    assert not (place.state_dir / "stack.json").exists()

    down = run_cli("down", "--state-dir", str(place.state_dir), cwd=place.root)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "postgres" in down.stdout
    assert_nothing_left(place.state_dir, place.offset, records)


@pytest.mark.stack
@pytest.mark.slow
def test_a_part_failing_halfway_names_its_log_and_stops_the_rest(place: Place) -> None:
    broken = place.root / "broken-toxiproxy"
    broken.write_text("#!/bin/sh\necho 'bind: address already in use' >&2\nexit 1\n")
    broken.chmod(0o755)
    up = run_cli("up", *place.args(), "--toxiproxy", str(broken), cwd=place.root)
    assert up.returncode == 4, up.stderr
    assert "starting postgres" in up.stderr  # it got halfway: the database was up
    last = up.stderr.strip().splitlines()[-1]
    log = place.state_dir / "logs" / "toxiproxy.log"
    assert last.startswith("hubchaos: error: toxiproxy: exited during startup: ")
    assert "bind: address already in use" in last  # the end of its log, quoted
    assert last.endswith(f"(log: {log})")
    assert "up failed: stopping everything that was started" in up.stderr
    assert_nothing_left(place.state_dir, place.offset, place.records())


@pytest.mark.stack
def test_a_port_in_use_is_named_with_its_holder_and_nothing_starts(place: Place) -> None:
    prometheus_port = Ports.with_offset(place.offset).prometheus
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", prometheus_port))
        squatter.listen()
        up = run_cli("up", *place.args(), "--toxiproxy", "embedded", cwd=place.root)
    assert up.returncode == 2
    line = _one_error_line(up)
    assert f"port {prometheus_port} (needed for prometheus) is already in use by" in line
    assert f"(pid {os.getpid()})" in line
    assert live_processes_under(place.state_dir) == []
    assert not [r for r in place.records()]
