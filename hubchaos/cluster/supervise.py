"""Detached processes of the local cluster: started in their own session, logged to a
file, remembered by a pid file that also records the command line so a recycled pid
is never mistaken for ours."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from hubchaos.polling import poll_until

__all__ = ["running_pid", "start_process", "stop_process"]

# The parts outlive the command that starts them: their Popen objects are kept here so
# they are never collected (with a "still running" warning) while the parts run.
_started: dict[int, subprocess.Popen[bytes]] = {}


def start_process(name: str, argv: Sequence[str], run_dir: Path, log_dir: Path) -> int:
    """Start `argv` detached (survives this command), log to log_dir/name.log."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _started[process.pid] = process
    record = {"pid": process.pid, "argv0": str(argv[0])}
    (run_dir / f"{name}.pid").write_text(json.dumps(record))
    return process.pid


def running_pid(name: str, run_dir: Path) -> int | None:
    """The pid of `name` if it is alive and still the program we started."""
    try:
        record = json.loads((run_dir / f"{name}.pid").read_text())
        pid = int(record["pid"])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, KeyError, IndexError):
        return None
    if state == "Z":
        return None
    if cmdline[0] == b"":
        return pid  # between fork and exec: the command line is not there yet
    return pid if cmdline[0].decode(errors="replace") == record["argv0"] else None


def stop_process(name: str, run_dir: Path, grace: float = 10.0) -> bool:
    """SIGTERM, then SIGKILL after `grace` s; reap if it is our child. True if it ran."""
    pid = running_pid(name, run_dir)
    (run_dir / f"{name}.pid").unlink(missing_ok=True)
    if pid is None:
        return False
    _signal(pid, signal.SIGTERM)
    if not poll_until(lambda _left: not _alive(pid), grace, 0.1, look_at_deadline=True).held:
        _signal(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)
    return True


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _alive(pid: int) -> bool:
    if pid in _started:
        if _started[pid].poll() is None:
            return True
        del _started[pid]
        return False
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
