"""The dead man's switch: a detached process that undoes faults nobody holds a lease on.

`ensure_watchdog` starts it (in its own session, so a Ctrl-C, a SIGHUP or a
SIGKILL of the runner's process group does not reach it) when a runner records
its first fault; `watchdog.lock` makes sure one runs per ledger. It polls the
ledger every `POLL_S`: an entry whose owner is dead, or alive but past its
lease, is undone (newest first) and removed; an undo that fails (Toxiproxy
unreachable, say) is retried with a growing pause until it holds or
`GIVE_UP_S` pass. Entries of a runner that holds its lease are never touched.
Once the ledger has been empty for `IDLE_EXIT_S` it exits; the next fault
starts it again. What it does goes to `ledger/watchdog.log`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from hubchaos.ledger.lease import owner_holds_lease
from hubchaos.ledger.store import FaultEntry, FaultLedger
from hubchaos.ledger.undo import UndoFailed, undo

__all__ = ["Retries", "ensure_watchdog", "run", "undo_orphans", "watchdog_running"]

POLL_S = 0.25
IDLE_EXIT_S = 5.0
GIVE_UP_S = 3600.0  # an unreachable Toxiproxy is retried this long
MAX_RETRY_PAUSE_S = 5.0
LOCK_NAME = "watchdog.lock"
LOG_NAME = "watchdog.log"


def _lock_path(ledger: FaultLedger) -> Path:
    return ledger.dir / LOCK_NAME


def watchdog_running(ledger: FaultLedger) -> bool:
    """True when a watchdog holds this ledger's lock."""
    try:
        with open(_lock_path(ledger), "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def ensure_watchdog(ledger: FaultLedger) -> None:
    """Start the watchdog for `ledger` unless one runs (a racing second one exits at once)."""
    if watchdog_running(ledger):
        return
    ledger.ensure_dir()
    # Double fork through sh: the watchdog is nobody's child here (no zombie
    # left behind) and sits in its own session, out of the runner's process
    # group and terminal. posix_spawn (vfork) keeps this cheap in a big process.
    script = 'cd / && "$0" -m hubchaos.ledger "$1" </dev/null >>"$2" 2>&1 &'
    argv = ["/bin/sh", "-c", script, sys.executable, str(ledger.state_dir),
            str(ledger.dir / LOG_NAME)]  # fmt: skip
    pid = os.posix_spawn("/bin/sh", argv, os.environ, setsid=True)
    os.waitpid(pid, 0)  # sh returns at once, the watchdog runs on


@dataclass
class Retries:
    """Failed undos: how often each entry failed and when to try it again."""

    tries: dict[str, int] = field(default_factory=dict)
    next_at: dict[str, float] = field(default_factory=dict)

    def due(self, entry_id: str) -> bool:
        return self.next_at.get(entry_id, 0.0) <= time.monotonic()

    def failed(self, entry_id: str) -> int:
        tries = self.tries.get(entry_id, 0) + 1
        self.tries[entry_id] = tries
        self.next_at[entry_id] = time.monotonic() + min(MAX_RETRY_PAUSE_S, 0.25 * 2**tries)
        return tries


def undo_orphans(
    ledger: FaultLedger, retries: Retries, log: IO[str] | None = None
) -> list[FaultEntry]:
    """Undo, newest first, every entry whose owner holds no lease; returns those undone."""
    now = time.time()
    undone = []
    for entry in reversed(ledger.entries()):
        if owner_holds_lease(ledger, entry.owner, now) or not retries.due(entry.id):
            continue
        try:
            undo(entry.undo)
        except UndoFailed as exc:
            tries = retries.failed(entry.id)
            _log(log, f"could not undo {entry.kind} {entry.target} (try {tries}): {exc}")
            continue
        ledger.settle(entry.id)
        undone.append(entry)
        _log(log, f"undid {entry.kind} {entry.target} (owner pid {entry.owner.pid})")
    return undone


def _log(log: IO[str] | None, line: str) -> None:
    if log is not None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        log.write(f"{stamp} watchdog[{os.getpid()}]: {line}\n")
        log.flush()


def run(state_dir: Path) -> int:
    ledger = FaultLedger(state_dir)
    ledger.ensure_dir()
    lock = open(_lock_path(ledger), "a")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another watchdog guards this ledger
    started = time.monotonic()
    idle_since = time.monotonic()
    retries = Retries()
    log = sys.stdout
    _log(log, f"guarding {ledger.dir}")
    while time.monotonic() - started < GIVE_UP_S:
        with contextlib.suppress(OSError):
            undo_orphans(ledger, retries, log)
        if ledger.entries():
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > IDLE_EXIT_S:
            break
        time.sleep(POLL_S)
    _log(log, "ledger empty, exiting" if not ledger.entries() else "giving up")
    return 0
