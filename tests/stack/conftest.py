"""Helpers for tests that start the real local stack.

Each stack runs under a port offset where every port is free, so the tests
never collide with a developer's stack on the default ports.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubchaos.stack.local.processes import ProcessRecord, cmdline_of, is_ours, marked_processes
from hubchaos.stack.ports import Ports, is_free

REPO = Path(__file__).resolve().parents[2]
PLENTY_OF_REPLICAS = 4  # leave room for scale() tests


def free_port_offset() -> int:
    """An offset (multiple of 10) under which every stack port is free right now.

    Every port stays below 32768, the start of Linux's ephemeral range: a port found free
    there can be taken by any outgoing connection before the stack binds it.
    """
    rng = random.Random()
    for _ in range(200):
        offset = rng.randrange(2000, 13500, 10)  # 19187 + 13500 < 32768
        ports = Ports.with_offset(offset).wanted(PLENTY_OF_REPLICAS)
        if all(is_free(port) for port in ports.values()):
            return offset
    raise RuntimeError("no free port offset found for a test stack")


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 240) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """`python3 -m hubchaos ARGS` in a subprocess, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "hubchaos", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def live_processes_under(state_dir: Path) -> list[str]:
    """Live processes of the stack in `state_dir`: its path in their arguments or its mark."""
    needle = str(state_dir)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        argv = cmdline_of(int(entry.name))
        if argv and any(needle in part for part in argv):
            found.append(" ".join(argv))
    found.extend(
        " ".join(cmdline_of(pid) or [str(pid)]) for pid in marked_processes(str(state_dir))
    )
    return found


def assert_nothing_left(state_dir: Path, offset: int, records: list[ProcessRecord]) -> None:
    """No recorded process alive, no process mentioning the state dir, every port free."""
    assert not [r.name for r in records if is_ours(r)]
    assert live_processes_under(state_dir) == []
    busy = {part: port for part, port in Ports.with_offset(offset).wanted(3).items()
            if not is_free(port)}  # fmt: skip
    assert busy == {}


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "state"
    yield directory
