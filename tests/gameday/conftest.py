"""Helpers for game-day tests: the CLI in a subprocess, behind a pipe or a real pseudo-terminal."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SHIPPED_PLAN = REPO / "gamedays" / "incident-training.yaml"
CLI_TIMEOUT_S = 60

# A session without experiments: everything but the stack.
TALK_PLAN = """\
title: Tabletop on the pool incident
description: Alert reading without a stack.
steps:
  - briefing: Welcome to the tabletop.
    title: Welcome
  - question: Which alert fired first?
  - pause: Look at the dashboards.
  - questions: ["What would you check next?", "Who do you call?"]
  - note: Noted for the report.
  - recap: Results so far.
"""


def write_plan(directory: Path, text: str = TALK_PLAN, name: str = "plan.yaml") -> Path:
    path = directory / name
    path.write_text(text)
    return path


def gameday(
    *args: str, cwd: Path, stdin: str | None = "", timeout: float = CLI_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """`python3 -m hubchaos gameday ARGS`, answers (if any) piped into stdin."""
    return subprocess.run(
        [sys.executable, "-m", "hubchaos", "gameday", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def record(report_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report_dir / "gameday.json").read_text())
    return data


def _take_the_terminal() -> None:
    """In the child: a session of its own with the pty as controlling terminal (for Ctrl-C)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtySession:
    """The CLI on a real pseudo-terminal: what it prints is read, what we type is sent."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        master, slave = pty.openpty()
        # wide enough that nothing wraps
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hubchaos", "gameday", *args],
            cwd=cwd,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "TERM": "xterm"},
            preexec_fn=_take_the_terminal,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.output = ""
        self._seen = 0

    def _read(self, timeout: float) -> bool:
        """Read what is there within `timeout`; False once the terminal is closed."""
        ready, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed its side
            return False
        if not data:
            return False
        self.output += data.decode("utf-8", "replace")
        return True

    def expect(self, text: str, timeout: float = 20) -> None:
        """Wait until `text` appears after what earlier calls already matched."""
        deadline = time.monotonic() + timeout
        while (found := self.output.find(text, self._seen)) < 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(min(remaining, 0.5)):
                raise AssertionError(f"{text!r} did not appear; the terminal shows:\n{self.output}")
        self._seen = found + len(text)

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait(self, timeout: float = CLI_TIMEOUT_S) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            if not self._read(0.2):
                break
        code = self.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        # what the child wrote just before it exited
        while select.select([self.master], [], [], 0.1)[0] and self._read(0):
            pass
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self.master)
