"""The fault ledger: the one record of what a run injected and how to undo it.

Every injection (toxic, disabled proxy, flood, stack or container change) is
recorded here *before* it is applied, with its undo as data; undoing it
settles the entry. The ledger lives in the state directory (configuration
`hubchaos_state_dir`, else env HUBCHAOS_STATE_DIR, else `.hubchaos`), so it
survives the runner: a detached watchdog (the dead man's switch) undoes the
entries of a runner that died or stopped renewing its lease, and `hubchaos
recover` undoes whatever is left.

    store.py     the files: one entry per fault, written atomically
    owner.py     which process owns an entry (pid + start time)
    lease.py     the runner's heartbeat
    watchdog.py  the dead man's switch
    undo.py      undo actions, by name
    history.py   this run's faults in order, for probes judging "since the fault"
    baseline.py  the Toxiproxy server's state: baseline, differences, recovery

This module is the face actions and controls use: `record`, `settle`, `mine`.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import Any

from hubchaos.activity.settings import setting
from hubchaos.ledger import history
from hubchaos.ledger.lease import Heartbeat, lease_seconds
from hubchaos.ledger.owner import Owner
from hubchaos.ledger.store import FaultEntry, FaultLedger
from hubchaos.ledger.watchdog import ensure_watchdog

__all__ = ["FaultEntry", "FaultLedger", "hold_lease", "ledger_for", "mine", "record", "settle"]

STATE_DIR_KEY = "hubchaos_state_dir"
LEASE_KEY = "hubchaos_lease_seconds"
DEFAULT_STATE_DIR = ".hubchaos"

_lock = threading.Lock()
_heartbeats: dict[Path, Heartbeat] = {}


def ledger_for(configuration: dict[str, Any] | None = None) -> FaultLedger:
    """The ledger of the stack this run targets (an absolute path: the watchdog runs in /)."""
    state_dir = Path(setting(STATE_DIR_KEY, configuration, DEFAULT_STATE_DIR))
    return FaultLedger(state_dir.resolve())


def hold_lease(configuration: dict[str, Any] | None = None) -> FaultLedger:
    """Start renewing this process's lease on the ledger (idempotent); returns the ledger."""
    ledger = ledger_for(configuration)
    with _lock:
        beat = _heartbeats.get(ledger.dir)
        if beat is None or beat.owner.pid != os.getpid():
            seconds = lease_seconds(setting(LEASE_KEY, configuration, ""))
            beat = Heartbeat(ledger, seconds, on_beat=lambda: _keep_watchdog(ledger))
            beat.start()
            atexit.register(beat.stop)  # a clean exit gives the lease up at once
            _heartbeats[ledger.dir] = beat
    return ledger


def _keep_watchdog(ledger: FaultLedger) -> None:
    """While this process has faults, a watchdog must be there (it exits when idle)."""
    me = Owner.me()
    if any(entry.owner == me for entry in ledger.entries()):
        ensure_watchdog(ledger)


def record(
    kind: str,
    target: str,
    undo: dict[str, Any],
    configuration: dict[str, Any] | None = None,
    note: bool = True,
) -> FaultEntry:
    """Record a fault about to be applied (durably, under this process's lease).

    `note`: also count it in this run's history (what probes call "the
    fault"); traffic that only carries a probe or a spike is not noted.
    """
    ledger = hold_lease(configuration)
    entry = ledger.record(kind, target, undo)
    if note:
        history.note(kind, target, entry.started)
    ensure_watchdog(ledger)
    return entry


def settle(entry: FaultEntry | None, configuration: dict[str, Any] | None = None) -> None:
    """The fault of `entry` is undone (or was never applied): forget it."""
    if entry is not None:
        ledger_for(configuration).settle(entry.id)


def mine(configuration: dict[str, Any] | None = None, kind_prefix: str = "") -> list[FaultEntry]:
    """This process's active faults in the run's ledger, oldest first."""
    me = Owner.me()
    return [
        entry
        for entry in ledger_for(configuration).entries()
        if entry.owner == me and entry.kind.startswith(kind_prefix)
    ]
