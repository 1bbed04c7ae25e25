"""Before each experiment: wait (bounded) until no alert is pending or firing.

In a game day runs follow each other, and alerts from the previous run take a
while to resolve. A replay that starts while they still fire shows the room
stale alerts, and "which alert fired first?" loses its answer. So the game day
waits for Prometheus to be quiet, at most `max_seconds`, and says what was
still active if it had to go on anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from chaoslib.exceptions import ActivityFailed

from hubchaos.polling import poll_until
from hubchaos.probes.alerts import alert_states

__all__ = ["QUIET_MAX_S", "wait_for_quiet"]

QUIET_MAX_S = 90.0
POLL_S = 2.0
REQUEST_TIMEOUT_S = 5.0


def _active(prometheus_url: str) -> list[str]:
    states = alert_states(
        include_alertmanager=False,
        timeout_seconds=REQUEST_TIMEOUT_S,
        configuration={"hubchaos_prometheus_url": prometheus_url},
    )
    return sorted({*states["firing"], *states["pending"]})


def wait_for_quiet(
    prometheus_url: str,
    max_seconds: float = QUIET_MAX_S,
    progress: Callable[[str], None] | None = None,
) -> list[str]:
    """The alerts still pending or firing when the wait ended (empty: quiet).

    Raises ActivityFailed when Prometheus cannot be asked at all.
    """
    deadline = time.monotonic() + max_seconds
    active = _active(prometheus_url)  # Prometheus cannot be asked at all: ActivityFailed
    if not active:
        return active
    if progress:
        progress(
            f"waiting up to {max_seconds:.0f} s for the alerts of earlier runs to clear: "
            + ", ".join(active)
        )
    polled = poll_until(
        lambda _left: _active(prometheus_url),
        max(0.0, deadline - time.monotonic()),
        POLL_S,
        done=lambda still: not still,
        retry_on=(ActivityFailed,),  # one failed poll among good ones is not worth stopping for
        wait_first=True,
    )
    return active if polled.value is None else polled.value
