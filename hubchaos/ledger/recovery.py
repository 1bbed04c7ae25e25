"""Bringing a stack back to its baseline: `recover`, `abort`, and the check before a run.

`recover` undoes every ledger entry (whoever owns it), then removes every
toxic or disabled proxy on the server that no entry owns. `abort` first stops
the runners that own the ledger (SIGTERM, so they roll back and write their
journal; SIGKILL if they do not end in time) and then recovers. `unowned_faults`
is what `hubchaos run` refuses to start on.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hubchaos.ledger.lease import holders, owner_holds_lease
from hubchaos.ledger.owner import Owner
from hubchaos.ledger.server import ServerFault, differences, owned_by, remove, snapshot
from hubchaos.ledger.store import FaultLedger
from hubchaos.ledger.undo import UndoFailed, undo
from hubchaos.polling import poll_until

__all__ = ["Recovery", "abort_runners", "recover", "runners", "unowned_faults"]


@dataclass
class Recovery:
    undone: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # faults on the server nobody owned
    errors: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.errors


def recover(ledger: FaultLedger, toxiproxy_url: str | None) -> Recovery:
    result = Recovery()
    for entry in reversed(ledger.entries()):
        try:
            undo(entry.undo)
        except UndoFailed as exc:
            result.errors.append(f"{entry.kind} {entry.target}: {exc}")
            continue
        ledger.settle(entry.id)
        result.undone.append(f"{entry.kind} {entry.target}")
    if toxiproxy_url:
        try:
            leftovers = differences(toxiproxy_url, snapshot(toxiproxy_url))
        except UndoFailed as exc:
            result.errors.append(str(exc))
            return result
        removed, errors = remove([f for f in leftovers if owned_by(f, ledger.entries()) is None])
        result.removed += [fault.describe() for fault in removed]
        result.errors += errors
    return result


def unowned_faults(ledger: FaultLedger, toxiproxy_url: str) -> list[ServerFault]:
    """Faults on the server that no live runner's ledger entry owns."""
    live = [e for e in ledger.entries() if owner_holds_lease(ledger, e.owner)]
    faults = differences(toxiproxy_url, snapshot(toxiproxy_url))
    return [fault for fault in faults if owned_by(fault, live) is None]


def runners(ledger: FaultLedger) -> list[Owner]:
    """Live processes that hold a lease on the ledger or own one of its entries."""
    found = {owner.pid: owner for owner in holders(ledger)}
    for entry in ledger.entries():
        if entry.owner.pid not in found and entry.owner.alive():
            found[entry.owner.pid] = entry.owner
    found.pop(os.getpid(), None)
    return list(found.values())


def abort_runners(
    ledger: FaultLedger, grace_s: float, say: Callable[[str], Any] = print
) -> tuple[list[int], list[int]]:
    """SIGTERM every runner, SIGKILL those still alive after `grace_s`; returns (ended, killed)."""
    owners = runners(ledger)
    for owner in owners:
        say(f"stopping the run of pid {owner.pid} (SIGTERM)")
        _signal(owner, signal.SIGTERM)
    poll_until(
        lambda _left: not any(o.alive() for o in owners), grace_s, 0.1, look_at_deadline=True
    )
    killed = [o.pid for o in owners if o.alive()]
    for owner in owners:
        if owner.alive():
            say(f"pid {owner.pid} did not stop within {grace_s:g}s: SIGKILL")
            _signal(owner, signal.SIGKILL)
    return [o.pid for o in owners if o.pid not in killed], killed


def _signal(owner: Owner, signum: signal.Signals) -> None:
    if owner.alive():  # same pid *and* same start time: never a recycled pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(owner.pid, signum)
