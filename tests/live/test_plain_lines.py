"""Plain mode (CI logs): progress lines, the periodic status line, and when plain is chosen."""

from __future__ import annotations

import io
import os
import sys
import time

import pytest

from hubchaos.view.display import wants_live_view
from hubchaos.view.progress import ProgressLines, StatusTicker
from tests.live.test_live_view import EXPERIMENT, FLOOD, _closed_port_url


def test_progress_lines_carry_elapsed_time_and_say_what_was_interrupted() -> None:
    out = io.StringIO()
    lines = ProgressLines(out)
    lines.started(EXPERIMENT, {})
    lines.start_method(EXPERIMENT)
    lines.start_activity(FLOOD)
    lines.activity_completed(FLOOD, {"status": "succeeded"})  # successes stay quiet
    lines.activity_completed({"name": "wait-for-ctrl-c"}, {"status": None})
    lines.signal_exit()
    assert [line[12:] for line in out.getvalue().splitlines()] == [
        "experiment: Incident replay: a connection flood against the learning hub",
        "method",
        "  action flood-database-logins (background)",
        "  wait-for-ctrl-c: interrupted",
        "interrupted: rolling back",
    ]
    assert out.getvalue().startswith("  [   0.0s] ")


def test_progress_lines_follow_sys_stderr_when_it_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = ProgressLines()  # created before the live view swaps sys.stderr
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stderr", captured)
    lines.start_rollbacks(EXPERIMENT)
    assert captured.getvalue().endswith("] rollbacks\n")


def test_the_status_ticker_says_once_that_prometheus_is_not_answering() -> None:
    out = io.StringIO()
    url = _closed_port_url()
    ticker = StatusTicker(ProgressLines(out), url, interval=0.1)
    ticker.start()
    deadline = time.monotonic() + 10
    while "not answering" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # several more refused samples
    ticker.stop()
    assert out.getvalue().count("\n") == 1, out.getvalue()
    assert f"stack: no numbers, Prometheus at {url} not answering" in out.getvalue()
    assert not ticker._thread.is_alive()


def test_live_only_on_a_capable_terminal_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    assert wants_live_view(True, io.StringIO()) is True
    assert wants_live_view(False, io.StringIO()) is False
    assert wants_live_view(None, io.StringIO()) is False  # a pipe or file: CI
    master, slave = os.openpty()
    try:
        with os.fdopen(os.dup(slave), "w") as terminal:
            monkeypatch.setenv("TERM", "xterm-256color")
            assert wants_live_view(None, terminal) is True
            monkeypatch.setenv("TERM", "dumb")
            assert wants_live_view(None, terminal) is False
            assert wants_live_view(True, terminal) is True
    finally:
        os.close(master)
        os.close(slave)
