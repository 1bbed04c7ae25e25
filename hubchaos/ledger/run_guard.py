"""What `hubchaos run` does before its first experiment: refuse a stack that carries
faults nobody owns (exit 3), and make SIGTERM and SIGHUP interrupt (exit 5) in
every phase, not only while chaoslib's own handler is installed."""

from __future__ import annotations

import signal
from pathlib import Path

from hubchaos.ledger.cli import recorded_toxiproxy_url, refuse_unowned_faults
from hubchaos.ledger.interrupt import raise_interrupt

__all__ = ["prepare_run"]


def prepare_run(state_dir: Path) -> None:
    """Before the stack is checked or started: a faulty stack is refused, not "unhealthy"."""
    url = recorded_toxiproxy_url(state_dir)
    if url is not None:  # no stack recorded here: nothing of ours to be faulty
        refuse_unowned_faults(state_dir, url)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) in (signal.SIG_DFL, None):
            # click turns it into "interrupted", exit 5; inside an experiment the
            # safety control chains the flood stop in front of it
            signal.signal(signum, raise_interrupt)
