"""Kernel pipes for splice(2): bytes move socket -> pipe -> socket without entering Python.

A pipe is borrowed only while bytes sit in it, so thousands of idle
connections hold no pipe (and no extra file descriptors).
"""

from __future__ import annotations

import contextlib
import fcntl
import os

AVAILABLE = hasattr(os, "splice")
FLAGS = getattr(os, "SPLICE_F_MOVE", 0) | getattr(os, "SPLICE_F_NONBLOCK", 0)
_F_SETPIPE_SZ = 1031
_F_GETPIPE_SZ = 1032
# Bytes moved per wake-up: on a busy machine the proxy waits to be scheduled,
# so a bigger pipe keeps throughput up. Above fs.pipe-max-size (1 MiB by
# default) the kernel refuses unless privileged; then 1 MiB, then its default.
PIPE_SIZES = (4 << 20, 1 << 20)
_KEEP_IDLE = 32

_idle: list[tuple[int, int]] = []
_size = 0  # capacity every pooled pipe has at least (the smallest seen)


def size() -> int:
    return _size


def take() -> tuple[int, int]:
    """An empty pipe (read end, write end)."""
    global _size
    if _idle:
        return _idle.pop()
    read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    for wanted in PIPE_SIZES:
        try:
            fcntl.fcntl(write_end, _F_SETPIPE_SZ, wanted)
            break
        except OSError:
            continue
    capacity = fcntl.fcntl(write_end, _F_GETPIPE_SZ)
    _size = capacity if _size == 0 else min(_size, capacity)
    return read_end, write_end


def give_back(pipe: tuple[int, int]) -> None:
    """Return an empty pipe to the pool."""
    if len(_idle) < _KEEP_IDLE:
        _idle.append(pipe)
    else:
        discard(pipe)


def discard(pipe: tuple[int, int]) -> None:
    """Close a pipe that may still hold bytes (the connection is gone)."""
    for fd in pipe:
        with contextlib.suppress(OSError):
            os.close(fd)
