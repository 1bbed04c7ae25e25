"""Spawning and stopping the stack's long-running processes.

Each process gets its own log file and its own session (so it is the leader of
a process group `down` can signal as a whole, and a Ctrl-C in the terminal that
ran `up` does not reach it). A pidfile recording the pid and the exact argv is
written the moment it is spawned, so even an `up` killed halfway leaves enough
behind for `down` to find it, and `down` only signals a pid that is still the
process we started (same start time in /proc/PID/stat; pids get reused).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubchaos.errors import StackError
from hubchaos.polling import poll_until

# Every spawned process carries this variable (value: the stack's state dir), so
# `down` can find one whose pidfile was never written (killed between fork and write).
MARK_ENV = "HUBCHAOS_STACK"

# Popen objects of the processes this interpreter spawned, kept so they are
# reaped when they exit and never garbage-collected while running (which would
# emit a ResourceWarning: these processes are meant to outlive the call).
_children: dict[int, subprocess.Popen[bytes]] = {}


@atexit.register
def _reap_exited_children() -> None:
    """Collect children that exited unobserved (a replica a fault killed), so they are
    neither zombies for the rest of a long session nor reported as running at exit."""
    for pid in list(_children):
        _reap(pid)


@dataclass(frozen=True)
class ProcessRecord:
    """What a pidfile holds."""

    name: str
    pid: int
    argv: list[str]
    log_file: str
    start_ticks: int = 0  # /proc/PID/stat starttime: pid + this identify one process

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pid": self.pid,
            "argv": self.argv,
            "log_file": self.log_file,
            "start_ticks": self.start_ticks,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict())

    @classmethod
    def from_json(cls, text: str) -> ProcessRecord:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProcessRecord:
        return cls(
            name=str(data["name"]),
            pid=int(data["pid"]),
            argv=[str(a) for a in data["argv"]],
            log_file=str(data["log_file"]),
            start_ticks=int(data.get("start_ticks", 0)),
        )


class ProcessTable:
    """The pidfiles of one state directory (`<state>/pids/NAME.json`)."""

    def __init__(self, pid_dir: Path, log_dir: Path, mark: str | None = None) -> None:
        self.pid_dir = pid_dir
        self.log_dir = log_dir
        self.mark = mark if mark is not None else str(pid_dir.parent)

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> tuple[subprocess.Popen[bytes], ProcessRecord]:
        """Start `argv` in its own session, output appended to logs/NAME.log."""
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_file(name)
        full_env = {**os.environ, **(env or {}), MARK_ENV: self.mark}
        with log_path.open("ab") as log:
            log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {name}\n".encode())
            log.flush()
            try:
                proc = subprocess.Popen(
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=full_env,
                    cwd=cwd,
                    start_new_session=True,
                )
            except OSError as exc:
                raise StackError(name, f"could not start {argv[0]}: {exc}", str(log_path)) from exc
        _reap_exited_children()
        _children[proc.pid] = proc
        record = ProcessRecord(
            name=name,
            pid=proc.pid,
            argv=list(argv),
            log_file=str(log_path),
            start_ticks=start_ticks_of(proc.pid) or 0,
        )
        self._pidfile(name).write_text(record.to_json())
        return proc, record

    def records(self) -> list[ProcessRecord]:
        if not self.pid_dir.is_dir():
            return []
        found = []
        for path in sorted(self.pid_dir.glob("*.json")):
            with contextlib.suppress(OSError, ValueError, KeyError):
                found.append(ProcessRecord.from_json(path.read_text()))
        return found

    def record(self, name: str) -> ProcessRecord | None:
        path = self._pidfile(name)
        try:
            return ProcessRecord.from_json(path.read_text())
        except (OSError, ValueError, KeyError):
            return None

    def strays(self) -> list[int]:
        """Live processes carrying our mark that no pidfile accounts for."""
        known = {record.pid for record in self.records() if is_ours(record)}
        return [pid for pid in marked_processes(self.mark) if pid not in known]

    def stop_strays(self, deadline_s: float = 5.0) -> list[int]:
        strays = self.strays()
        for pid in strays:
            _signal_process_and_group(pid, signal.SIGTERM)
        poll_until(
            lambda _left: any(_alive(pid) for pid in strays),
            deadline_s,
            0.05,
            done=lambda alive: not alive,
            look_at_deadline=True,
        )
        for pid in strays:
            if _alive(pid):
                _signal_process_and_group(pid, signal.SIGKILL)
        return strays

    def forget(self, name: str) -> None:
        self._pidfile(name).unlink(missing_ok=True)

    def stop(self, record: ProcessRecord, deadline_s: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it after `deadline_s`; forget the pidfile."""
        stop_group(record, deadline_s)
        self.forget(record.name)

    def _pidfile(self, name: str) -> Path:
        return self.pid_dir / f"{name}.json"


def cmdline_of(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    if not raw:
        return None  # a zombie or a kernel thread
    return [part.decode(errors="replace") for part in raw.rstrip(b"\0").split(b"\0")]


def start_ticks_of(pid: int) -> int | None:
    """When `pid` started (clock ticks since boot); None when gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces: split after its closing ')'.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def is_ours(record: ProcessRecord) -> bool:
    """True while `record.pid` is alive and is still the process we started.

    Pids get reused, so the pid alone proves nothing. The start time recorded
    at spawn is decisive: a pid with the same start time is the same process,
    even if a wrapper script exec'd into another program since. Records
    without one (hand-written) fall back to comparing /proc/PID/cmdline, which
    must end with our arguments (an interpreter named by a #! line may precede
    them).
    """
    if record.start_ticks:
        return start_ticks_of(record.pid) == record.start_ticks
    cmdline = cmdline_of(record.pid)
    if cmdline is None:
        return False
    if cmdline == record.argv:
        return True
    arguments = record.argv[1:]
    return len(cmdline) > len(arguments) and cmdline[len(cmdline) - len(arguments) :] == arguments


def stop_group(record: ProcessRecord, deadline_s: float = 10.0) -> None:
    if not is_ours(record):
        _reap(record.pid)
        return
    # The process is a session leader, so its pid is also its process group id;
    # signalling the group also reaches any children it started.
    _signal_group(record.pid, signal.SIGTERM)
    if _wait_gone(record, deadline_s):
        _signal_group(record.pid, signal.SIGKILL)  # stragglers left in the group
        return
    _signal_group(record.pid, signal.SIGKILL)
    _wait_gone(record, 5.0)


def stop_all(records: list[ProcessRecord], deadline_s: float = 10.0) -> None:
    """Stop several process groups at once: SIGTERM all, then wait, then SIGKILL stragglers."""
    live = [record for record in records if is_ours(record)]
    for record in live:
        _signal_group(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + deadline_s
    for record in live:
        if not _wait_gone(record, max(0.0, deadline - time.monotonic())):
            _signal_group(record.pid, signal.SIGKILL)
            _wait_gone(record, 5.0)
        _signal_group(record.pid, signal.SIGKILL)  # children left in the group


def marked_processes(mark: str) -> list[int]:
    """Pids whose environment holds MARK_ENV=mark (our spawned processes and their children)."""
    needle = f"{MARK_ENV}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    _reap(pid)
    return start_ticks_of(pid) is not None


def _signal_process_and_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _wait_gone(record: ProcessRecord, deadline_s: float) -> bool:
    def gone() -> bool:
        _reap(record.pid)
        return not is_ours(record)

    return poll_until(lambda _left: gone(), deadline_s, 0.05, look_at_deadline=True).held


def _reap(pid: int) -> None:
    """Collect our own exited child so it does not linger as a zombie."""
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        del _children[pid]
