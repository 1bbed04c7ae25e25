"""Directories and files only their owner may read: the state directory, stack.json, journals.

stack.json and journals hold DSNs; the state directory holds the stack's
password. Files are written under a temporary name created 0600 from the
start (never briefly world-readable), then renamed over the old one.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["PRIVATE_DIR_MODE", "PRIVATE_FILE_MODE", "private_dir", "write_private"]

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it 0700; returns it.

    A search (x) bit given to others is kept: when root runs the stack,
    PostgreSQL runs as the `postgres` user and must reach its data directory
    inside (hubchaos.stack.local.postgres grants that); it still cannot list the
    directory or read a 0600 file in it.
    """
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    with contextlib.suppress(PermissionError):  # not ours (say /tmp): leave it be
        mode = path.stat().st_mode & 0o777
        wanted = PRIVATE_DIR_MODE | (mode & 0o011)
        if mode != wanted:
            path.chmod(wanted)
    return path


def write_private(path: Path, text: str) -> Path:
    """Write `text` to `path` atomically, readable and writable by the owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        # O_CREAT's mode is masked by umask, and a leftover file kept its own
        os.fchmod(fd, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            fd = -1
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    return path
