"""The live view in a real terminal (a pty), against the session's real stack.

`hubchaos run` gets a pseudo-terminal as its controlling terminal, as in an
interactive shell: it must pick the live view by itself, fill the panel with
numbers from Prometheus, restore the terminal at the end, and on a real
Ctrl-C (the byte ^C typed into the terminal) roll back and exit 5.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.experiments.conftest import REPO, HubStack

pytestmark = [pytest.mark.stack, pytest.mark.slow]

WATCH_ME = REPO / "tests" / "live" / "data" / "watch-me.yaml"
INTERRUPT_ME = REPO / "tests" / "experiments" / "data" / "interrupt-me.yaml"
COLUMNS, ROWS = 120, 40
CONTROL_SEQUENCE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"
OWN_CONNECTIONS_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'hubchaos-%'"
    " AND pid <> pg_backend_pid()"
)


@dataclass
class Terminal:
    process: subprocess.Popen[bytes]
    master: int
    slave: int
    raw: str = ""
    attributes: list = field(default_factory=list)  # termios attributes before the run

    @property
    def text(self) -> str:
        return CONTROL_SEQUENCE.sub("", self.raw)

    def read_until(self, condition: Callable[[], bool], seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return True
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.raw += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    return condition()
        return condition()

    def finish(self, seconds: float) -> int:
        """Read everything until the process exits; its exit code."""
        exited = self.read_until(lambda: self.process.poll() is not None, seconds)
        assert exited, f"still running after {seconds}s:\n{self.text[-3000:]}"
        self.read_until(lambda: False, 0.5)  # what it wrote last
        return self.process.returncode


def _take_the_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the pty becomes our controlling terminal


@contextmanager
def terminal_run(hub_stack: HubStack, experiment: Path, cwd: Path) -> Iterator[Terminal]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    attributes = termios.tcgetattr(slave)
    env = {**os.environ, "TERM": "xterm-256color", "HUBCHAOS_PORT_OFFSET": str(hub_stack.offset)}
    for name in ("NO_COLOR", "COLUMNS", "LINES"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "hubchaos", "run", str(experiment),
         "--state-dir", str(hub_stack.state_dir), "--no-start"],
        stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
        start_new_session=True, preexec_fn=_take_the_terminal,
    )  # fmt: skip
    terminal = Terminal(process, master, slave, attributes=attributes)
    try:
        yield terminal
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        os.close(master)
        os.close(slave)


def _numbers(pattern: str, text: str) -> list[int]:
    return [int(value) for value in re.findall(pattern, text)]


def test_a_terminal_gets_the_live_panel_with_real_numbers(
    hub_stack: HubStack, tmp_path: Path
) -> None:
    hub_stack.use_profile("fixed")
    with terminal_run(hub_stack, WATCH_ME, tmp_path) as terminal:
        code = terminal.finish(90)
        text = terminal.text
        after = termios.tcgetattr(terminal.slave)
    assert code == 0, text[-3000:]
    assert "hubchaos run · Watch me: a small flood held for a few seconds" in text
    assert "action hold-a-few-database-logins" in text  # shown while in the background
    assert "now          action watch-for-a-while" in text
    pools = _numbers(r"(\d+)/40 used", text)
    connections = _numbers(r"(\d+)/60 connections \(max_connections\)", text)
    assert pools and connections, text[-3000:]
    # the 10 held logins show up: the panel is redrawn from live samples
    assert max(connections) >= 10 + 4 and len(set(connections)) >= 2, connections
    assert re.search(r"latency p95  (\d+ ms|\d+\.\d\d s|-)", text)
    assert "alerts       " in text
    assert "finished (completed)" in text  # the last panel stays on screen
    assert "hubchaos: " + str(WATCH_ME) + ": passed" in text.replace("\n", "")
    raw = terminal.raw
    assert HIDE_CURSOR in raw and raw.rindex(SHOW_CURSOR) > raw.rindex(HIDE_CURSOR)
    assert after == terminal.attributes  # the terminal is left as it was found


def _own_connections(dsn: str) -> int:
    with psycopg.connect(dsn, connect_timeout=5, application_name="test-observer") as conn:
        row = conn.execute(OWN_CONNECTIONS_SQL).fetchone()
    return int(row[0]) if row else -1


def test_ctrl_c_in_the_terminal_rolls_back_and_exits_5(hub_stack: HubStack, tmp_path: Path) -> None:
    hub_stack.use_profile("fixed")
    state = hub_stack.stack.state()
    assert state is not None
    with terminal_run(hub_stack, INTERRUPT_ME, tmp_path) as terminal:
        drawn = terminal.read_until(
            lambda: (
                "now          action wait-for-ctrl-c" in terminal.text
                and _own_connections(state.db_dsn) >= 20
            ),
            45,
        )
        assert drawn, terminal.text[-3000:]
        os.write(terminal.master, b"\x03")  # Ctrl-C, as typed
        code = terminal.finish(60)
        text = terminal.text
        after = termios.tcgetattr(terminal.slave)
    assert code == 5, text[-3000:]
    assert "interrupted: rolling back" in text and "finished (interrupted)" in text
    assert "^C" not in text  # not echoed into the panel
    toxics = httpx.get(f"{state.toxiproxy_url}/proxies", timeout=5).json()
    assert all(proxy["toxics"] == [] for proxy in toxics.values()), toxics
    assert _own_connections(state.db_dsn) == 0
    assert after == terminal.attributes
    raw = terminal.raw
    assert raw.rindex(SHOW_CURSOR) > raw.rindex(HIDE_CURSOR)
