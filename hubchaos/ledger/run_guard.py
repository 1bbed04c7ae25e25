"""What `hubchaos run` does before its first experiment: refuse a stack that carries
faults nobody owns (exit 3), and make SIGTERM and SIGHUP interrupt (exit 5) in
every phase, not only while chaoslib's own handler is installed."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

from hubchaos.ledger.cli import refuse_unowned_faults

__all__ = ["prepare_run"]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # click turns KeyboardInterrupt into "interrupted", exit 5; inside an
    # experiment chaoslib records it as the interruption
    raise KeyboardInterrupt(signal.Signals(signum).name)


def prepare_run(state_dir: Path, toxiproxy_url: str) -> None:
    refuse_unowned_faults(state_dir, toxiproxy_url)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) in (signal.SIG_DFL, None):
            signal.signal(signum, _interrupt)
