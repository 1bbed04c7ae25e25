"""Spawning, recognising and stopping the stack's processes (real processes, no mocks)."""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from hubchaos.errors import UserError
from hubchaos.stack.local.processes import ProcessTable, cmdline_of, is_ours, stop_all
from hubchaos.stack.ports import Ports, ensure_free, is_free, who_listens

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def _table(tmp_path: Path) -> ProcessTable:
    return ProcessTable(tmp_path / "pids", tmp_path / "logs")


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def test_spawn_records_a_pidfile_and_stop_kills_the_whole_group(tmp_path: Path) -> None:
    table = _table(tmp_path)
    # A shell that starts a grandchild: stopping the group must take both.
    _, record = table.spawn("sleeper", ["sh", "-c", "sleep 60 & echo started; wait"])
    deadline = time.monotonic() + 10
    while "started" not in Path(record.log_file).read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    children = Path(f"/proc/{record.pid}/task/{record.pid}/children").read_text().split()
    assert children, "the shell should have a sleeping child"
    assert os.getpgid(record.pid) == record.pid  # its own process group (and session)
    assert table.record("sleeper") == record
    assert is_ours(record)

    table.stop(record, deadline_s=5)

    assert not is_ours(record)
    assert not any(_alive(int(child)) for child in children)
    assert table.record("sleeper") is None


def test_a_reused_pid_is_not_ours(tmp_path: Path) -> None:
    table = _table(tmp_path)
    _, record = table.spawn("sleeper", SLEEPER)
    try:
        assert is_ours(record)
        # Same pid, different start time or command: somebody else's process now.
        assert not is_ours(dataclasses.replace(record, start_ticks=record.start_ticks + 1))
        # Without a recorded start time, the command line has to match (once the
        # child has exec'd: until then /proc shows the parent's command line).
        deadline = time.monotonic() + 10
        while cmdline_of(record.pid) != record.argv and time.monotonic() < deadline:
            time.sleep(0.05)
        unstamped = dataclasses.replace(record, start_ticks=0)
        assert is_ours(unstamped)
        assert not is_ours(dataclasses.replace(unstamped, argv=["postgres", "-D", "/elsewhere"]))
        stop_all([dataclasses.replace(record, start_ticks=1)], deadline_s=1)
        assert _alive(record.pid), "a process that is not ours must never be signalled"
    finally:
        stop_all([record], deadline_s=5)
    assert not _alive(record.pid)


def test_stop_all_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    table = _table(tmp_path)
    stubborn = [
        sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)",
    ]  # fmt: skip
    _, record = table.spawn("stubborn", stubborn)
    deadline = time.monotonic() + 10
    while "ready" not in Path(record.log_file).read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    stop_all([record], deadline_s=0.5)
    assert not is_ours(record)
    assert time.monotonic() - started < 5


def test_a_taken_port_is_reported_with_its_holder() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert not is_free(port)
        assert f"(pid {os.getpid()})" in (who_listens(port) or "")
        with pytest.raises(UserError) as info:
            ensure_free({"prometheus": port})
    message = str(info.value)
    assert f"port {port} (needed for prometheus) is already in use by" in message
    assert f"pid {os.getpid()}" in message
    assert is_free(port)


def test_port_offset_moves_every_port() -> None:
    moved = Ports.with_offset(100)
    assert moved.toxiproxy == 8574
    assert moved.postgres == 15532
    assert moved.replica(3) == 18103
    assert set(moved.wanted(2).values()) == {p + 100 for p in Ports().wanted(2).values()}
    with pytest.raises(UserError, match="port offset must be between"):
        Ports.with_offset(50000)


def test_a_process_whose_pidfile_was_never_written_is_still_found(tmp_path: Path) -> None:
    table = _table(tmp_path)
    _, record = table.spawn("orphan", SLEEPER)
    table.forget("orphan")  # as if `up` was killed between fork and writing the pidfile
    assert table.records() == []
    assert table.strays() == [record.pid]
    other = ProcessTable(tmp_path / "other" / "pids", tmp_path / "other" / "logs")
    assert other.strays() == []  # another stack's mark does not match

    assert table.stop_strays(deadline_s=5) == [record.pid]
    assert not _alive(record.pid)
    assert table.strays() == []
