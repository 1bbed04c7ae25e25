"""A runner's lease on its faults: a heartbeat file the dead man's switch watches.

While a runner's process is alive and its `lease-<pid>.json` was refreshed
less than `seconds` ago, the runner holds the lease and the switch leaves its
faults alone. A SIGKILLed runner is seen at once (its pid is gone); a runner
that hangs stops beating and loses the lease after `seconds`. The lease length
comes from configuration `hubchaos_lease_seconds` (env HUBCHAOS_LEASE_SECONDS),
default 10 s.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hubchaos.ledger.owner import Owner
from hubchaos.ledger.store import FaultLedger, write_atomically

__all__ = ["DEFAULT_LEASE_S", "Heartbeat", "holders", "lease_seconds", "owner_holds_lease"]

DEFAULT_LEASE_S = 10.0
MIN_LEASE_S = 1.0
MAX_LEASE_S = 3600.0


def lease_seconds(raw: Any) -> float:
    """The lease length from a setting; anything unusable gives the default."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return DEFAULT_LEASE_S
    return min(MAX_LEASE_S, max(MIN_LEASE_S, value))


def _lease_path(ledger: FaultLedger, owner: Owner) -> Path:
    return ledger.dir / f"lease-{owner.pid}.json"


def _read(path: Path) -> dict[str, Any] | None:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def owner_holds_lease(ledger: FaultLedger, owner: Owner, now: float | None = None) -> bool:
    """True while `owner` lives and its heartbeat is fresher than its lease."""
    lease = _read(_lease_path(ledger, owner))
    if lease is None or int(lease.get("start_ticks", -1)) != owner.start_ticks:
        return False
    fresh = float(lease.get("heartbeat", 0)) + float(lease.get("seconds", DEFAULT_LEASE_S))
    return (now or time.time()) < fresh and owner.alive()


def holders(ledger: FaultLedger) -> list[Owner]:
    """Runners that hold a lease on this ledger right now."""
    found = []
    for path in sorted(ledger.dir.glob("lease-*.json")) if ledger.dir.is_dir() else []:
        lease = _read(path)
        if lease is None:
            continue
        owner = Owner(int(lease["pid"]), int(lease["start_ticks"]))
        if owner_holds_lease(ledger, owner):
            found.append(owner)
        elif not owner.alive():
            with contextlib.suppress(OSError):
                path.unlink()  # a dead runner's lease: nothing will renew it
    return found


class Heartbeat:
    """Renews this process's lease every `seconds / 5` in a daemon thread.

    `on_beat` runs after each renewal (the ledger uses it to make sure the
    watchdog is still there while this process has faults).
    """

    def __init__(
        self, ledger: FaultLedger, seconds: float, on_beat: Callable[[], None] | None = None
    ) -> None:
        self.ledger = ledger
        self.seconds = seconds
        self.owner = Owner.me()
        self._on_beat = on_beat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Write the lease now (synchronously), then keep it fresh."""
        self.ledger.ensure_dir()
        self._beat()
        self._thread = threading.Thread(target=self._run, name="hubchaos-lease", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        write_atomically(
            _lease_path(self.ledger, self.owner),
            {
                "pid": self.owner.pid,
                "start_ticks": self.owner.start_ticks,
                "heartbeat": time.time(),
                "seconds": self.seconds,
            },
            durable=False,  # a lost heartbeat only makes the lease expire sooner
        )

    def _run(self) -> None:
        interval = max(0.2, self.seconds / 5)
        while not self._stop.wait(interval):
            with contextlib.suppress(OSError):
                self._beat()
            if self._on_beat is not None:
                with contextlib.suppress(Exception):  # the beat itself must go on
                    self._on_beat()

    def stop(self) -> None:
        """Give the lease up: faults still in the ledger go to the watchdog."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            _lease_path(self.ledger, self.owner).unlink()
