"""The wait for quiet alerts says so when Prometheus cannot be asked (the game day goes on)."""

from __future__ import annotations

import socket

import pytest
from chaoslib.exceptions import ActivityFailed

from hubchaos.gameday.quiet import wait_for_quiet


def test_an_unreachable_prometheus_is_an_activity_failure() -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ActivityFailed, match=f"Prometheus at http://127.0.0.1:{port}"):
        wait_for_quiet(f"http://127.0.0.1:{port}", max_seconds=1)
