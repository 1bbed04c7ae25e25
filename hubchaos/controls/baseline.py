"""The safety control's baseline: the Toxiproxy server's state before the experiment.

"Clean" is read from the server, never from a list the runner kept: after the
rollbacks the server's toxics and `enabled` flags must equal the baseline.
Whatever differs (a toxic a third-party activity added without a rollback, a
proxy it disabled) is removed and named in the journal under `left_behind`.
"""

from __future__ import annotations

import logging
from typing import Any

from hubchaos import ledger as fault_ledger
from hubchaos.activity.settings import setting
from hubchaos.ledger.server import Snapshot, differences, remove, snapshot
from hubchaos.ledger.undo import UndoFailed
from hubchaos.polling import poll_until

__all__ = ["back_to_baseline", "take_baseline"]

logger = logging.getLogger("hubchaos")

_baseline: dict[str, Snapshot] = {}

# How long an unreadable API is asked again: on Kubernetes its port-forward is
# refused for a moment while the keeper restarts kubectl after a reset in the pod.
UNREADABLE_FOR_S = 5.0


def take_baseline(configuration: dict[str, Any] | None) -> None:
    """Hold this process's lease and remember the server as it is before the experiment."""
    fault_ledger.hold_lease(configuration)
    _baseline.clear()
    url = setting("hubchaos_toxiproxy_url", configuration)
    try:
        _baseline[url] = snapshot(url)
    except UndoFailed as exc:  # no baseline: the default one (no toxic, all enabled) is used
        logger.warning("hubchaos safety: no Toxiproxy baseline: %s", exc)


def back_to_baseline(configuration: dict[str, Any] | None, summary: dict[str, Any]) -> None:
    """Remove what differs from the baseline; record it and whether the server now matches."""
    url = setting("hubchaos_toxiproxy_url", configuration)
    baseline = _baseline.get(url)
    try:
        # it answered at the start, so not answering now may be a moment's gap
        now = snapshot(url) if baseline is None else _read_again_while_unreadable(url)
        left = differences(url, now, baseline)
        removed, errors = remove(left)
        still = differences(url, snapshot(url), baseline)
    except UndoFailed as exc:
        summary["errors"].append(f"checking Toxiproxy against the baseline: {exc}")
        return
    summary["left_behind"] = [fault.describe() for fault in removed]
    summary["errors"].extend(errors)
    if still:
        summary["errors"].append(
            "not at the baseline: " + "; ".join(fault.describe() for fault in still)
        )


def _read_again_while_unreadable(url: str) -> Snapshot:
    """The server's state, asked again for a few seconds while it cannot be read."""
    polled = poll_until(
        lambda _left: snapshot(url),
        UNREADABLE_FOR_S,
        0.25,
        done=lambda _: True,
        retry_on=(UndoFailed,),
    )
    return polled.last()
