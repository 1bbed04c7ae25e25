"""The fault ledger on disk: one JSON file per injected fault, written before the fault.

Layout, inside the state directory (`.hubchaos` unless configured)::

    ledger/
      fault-<ns>-<pid>-<n>.json   one active fault: what, who owns it, how to undo it
      lease-<pid>.json            a runner's heartbeat (see lease.py)
      watchdog.lock               held by the dead man's switch while it runs

A file per entry means two threads or two processes never rewrite the same
file, so no lock is needed around read-modify-write. Each write goes to a
temporary file that is fsynced, renamed into place and then the directory is
fsynced: after a crash an entry is either fully there or absent, and because
it is written *before* the fault is applied, an applied fault always has one.
An entry is removed once its fault is undone (without an fsync: undoing is
idempotent, so an entry a crash resurrects is merely undone again).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hubchaos.ledger.owner import Owner

__all__ = ["LEDGER_DIRNAME", "FaultEntry", "FaultLedger", "write_atomically"]

LEDGER_DIRNAME = "ledger"
_counter = itertools.count(1)


@dataclass(frozen=True)
class FaultEntry:
    """One injected fault: `undo` is data (see undo.py), never code."""

    id: str
    kind: str  # e.g. "toxic:latency", "proxy-disabled", "flood:db_logins", "stack:scale"
    target: str
    undo: dict[str, Any]
    owner: Owner
    started: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FaultEntry:
        return cls(
            id=str(raw["id"]),
            kind=str(raw["kind"]),
            target=str(raw["target"]),
            undo=dict(raw["undo"]),
            owner=Owner(**raw["owner"]),
            started=float(raw["started"]),
        )


def write_atomically(path: Path, data: dict[str, Any], durable: bool = True) -> None:
    """Write JSON to `path` so readers see the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{next(_counter)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(data).encode())
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if durable:
        _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FaultLedger:
    """The active faults recorded in one state directory."""

    def __init__(self, state_dir: Path | str) -> None:
        self.state_dir = Path(state_dir)
        self.dir = self.state_dir / LEDGER_DIRNAME

    def ensure_dir(self) -> None:
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)

    def record(
        self, kind: str, target: str, undo: dict[str, Any], owner: Owner | None = None
    ) -> FaultEntry:
        """Durably record a fault about to be applied; apply it only after this returns."""
        self.ensure_dir()
        owner = owner or Owner.me()
        entry = FaultEntry(
            id=f"fault-{time.time_ns():020d}-{owner.pid}-{next(_counter)}",
            kind=kind,
            target=target,
            undo=undo,
            owner=owner,
        )
        write_atomically(self.dir / f"{entry.id}.json", entry.as_dict())
        return entry

    def settle(self, entry_id: str) -> None:
        """Forget an entry whose fault is undone (or never came to be).

        Not fsynced: every undo is idempotent, so an entry a crash brings
        back is only undone once more.
        """
        with contextlib.suppress(FileNotFoundError):
            (self.dir / f"{entry_id}.json").unlink()

    def entries(self) -> list[FaultEntry]:
        """Every active fault, oldest first; unreadable files are skipped (they are temp files)."""
        if not self.dir.is_dir():
            return []
        found = []
        for path in sorted(self.dir.glob("fault-*.json")):
            try:
                found.append(FaultEntry.from_dict(json.loads(path.read_text())))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return found
