"""How SIGTERM and SIGHUP interrupt a run: as a KeyboardInterrupt, never as an Exception.

chaoslib turns any `Exception` an activity raises into ActivityFailed (its own
InterruptExecution included) and carries on with the method, so a SIGTERM
during a Python activity would be recorded as a failed step, not as the end of
the run. A KeyboardInterrupt (a BaseException) reaches chaoslib's run loop,
which records the run as interrupted and still runs rollbacks and controls;
outside an experiment click turns it into "interrupted", exit 5.
"""

from __future__ import annotations

import signal
from types import FrameType

__all__ = ["SignalInterrupt", "raise_interrupt"]


class SignalInterrupt(KeyboardInterrupt):
    """The run was stopped by a signal other than SIGINT."""


def raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise SignalInterrupt(f"{signal.Signals(signum).name} received")
