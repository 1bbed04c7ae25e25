"""Backoff for a load worker whose requests fail without an answer.

A refused connection fails in microseconds, so a worker that retries at once
spins: 8,840 attempts a second at a dead replica, all CPU and no load. After
each transport error a worker waits, doubling from 10 ms up to 1 s with
jitter (so the workers do not retry in step); the first response resets it.
"""

from __future__ import annotations

import asyncio
import random

__all__ = ["Backoff"]

FIRST_DELAY_S = 0.01
MAX_DELAY_S = 1.0


class Backoff:
    def __init__(self, rand: random.Random) -> None:
        self._rand = rand
        self._delay = 0.0

    @property
    def delay(self) -> float:
        """The next wait, before jitter (0 after a response)."""
        return self._delay

    def succeeded(self) -> None:
        self._delay = 0.0

    async def failed(self) -> None:
        """Wait before the next attempt; each failure in a row doubles the wait."""
        self._delay = min(MAX_DELAY_S, max(FIRST_DELAY_S, self._delay * 2))
        await asyncio.sleep(self._delay * self._rand.uniform(0.5, 1.0))
