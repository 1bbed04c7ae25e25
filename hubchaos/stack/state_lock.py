"""One up/down/scale at a time per state directory, whichever environment runs it."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from hubchaos.errors import UserError
from hubchaos.private.files import private_dir

LOCK_NAME = "lock"


@contextlib.contextmanager
def state_lock(state_dir: Path) -> Iterator[None]:
    """Hold `<state_dir>/lock`; a second command on the same stack fails at once, in one line."""
    private_dir(state_dir)  # 0700: it holds stack.json, journals and the stack's password
    with (state_dir / LOCK_NAME).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UserError(
                f"another hubchaos command is working on {state_dir}; wait for it"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
