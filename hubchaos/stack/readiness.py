"""Waiting for a part of the stack to become healthy, with a deadline.

A check returns None when the part is healthy, else a short reason ("HTTP 503",
"connection refused") that ends up in the StackError if the deadline passes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from hubchaos.errors import StackError
from hubchaos.polling import poll_until

Check = Callable[[], str | None]
Progress = Callable[[str], None]


def progress_to_stderr(line: str) -> None:
    """The default Progress: one line per step on stderr, shown at once."""
    print(line, file=sys.stderr, flush=True)


HTTP_TIMEOUT_S = 2.0
NOTE_EVERY_S = 5.0  # a slow part still says what it is waiting for


def http_check(url: str, expect_text: str | None = None) -> Check:
    """Healthy when GET url answers 200 (and the body contains `expect_text`)."""

    def check() -> str | None:
        try:
            response = httpx.get(url, timeout=HTTP_TIMEOUT_S)
        except httpx.HTTPError as exc:
            return f"GET {url} failed: {type(exc).__name__}"
        if response.status_code != 200:
            body = " ".join(response.text.split())[:160]
            return f"GET {url} answered HTTP {response.status_code}{': ' + body if body else ''}"
        if expect_text is not None and expect_text not in response.text:
            return f"GET {url} does not show '{expect_text}' yet"
        return None

    return check


def wait_ready(
    part: str,
    check: Check,
    deadline_s: float,
    progress: Progress,
    alive: Callable[[], bool] | None = None,
    log_file: Path | str | None = None,
    started_at: float | None = None,
) -> float:
    """Poll `check` until healthy; return seconds since `started_at`.

    Raises StackError(part, reason, log) when the deadline passes or `alive`
    says the part is gone first (then the reason quotes the end of its log).
    """
    started = started_at if started_at is not None else time.monotonic()
    log = str(log_file) if log_file is not None else None
    next_note = time.monotonic() + NOTE_EVERY_S

    def attempt() -> str:
        if alive is not None and not alive():
            last = tail(log) if log else ""
            raise StackError(part, f"exited during startup{': ' + last if last else ''}", log)
        return check() or ""

    def note(reason: str) -> None:
        nonlocal next_note
        if time.monotonic() >= next_note:
            progress(f"waiting for {part} ... ({time.monotonic() - started:.0f}s: {reason})")
            next_note += NOTE_EVERY_S

    polled = poll_until(
        lambda _left: attempt(), deadline_s, 0.05, done=lambda reason: not reason,
        look_at_deadline=True, growth=1.5, max_interval_s=0.5, on_wait=note,
    )  # fmt: skip
    if not polled.held:
        raise StackError(part, f"not healthy after {deadline_s:g}s: {polled.last()}", log)
    elapsed = time.monotonic() - started
    progress(f"waiting for {part} ... ready in {elapsed:.1f}s")
    return elapsed


def tail(path: Path | str, lines: int = 3) -> str:
    """The last few non-empty lines of a log file, joined for a one-line message."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    last = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(last)[-400:]
