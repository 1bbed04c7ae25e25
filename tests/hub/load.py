"""Bounded concurrent HTTP load and a table lock that stalls the dashboard's queries."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import psycopg


@dataclass(frozen=True)
class Outcome:
    status: int  # 0 when the client gave up (timeout or transport error)
    seconds: float
    retry_after: str | None


async def fire(
    url: str, paths: list[str], concurrency: int, timeout: float = 15.0
) -> list[Outcome]:
    """GET every path once, `concurrency` at a time; bounded by count and by timeout."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    outcomes: list[Outcome] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                path = queue.get_nowait()
                started = time.monotonic()
                try:
                    response = await client.get(path)
                    outcome = Outcome(
                        response.status_code,
                        time.monotonic() - started,
                        response.headers.get("retry-after"),
                    )
                except httpx.HTTPError:
                    outcome = Outcome(0, time.monotonic() - started, None)
                outcomes.append(outcome)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcomes


@contextlib.asynccontextmanager
async def students_locked(admin_dsn: str) -> AsyncIterator[None]:
    """Hold ACCESS EXCLUSIVE on students: every dashboard query blocks, holding its connection.

    A real stall (like a migration's lock), not a test hook in the app.
    """
    conn = await psycopg.AsyncConnection.connect(admin_dsn)
    try:
        await conn.execute("LOCK TABLE students IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        await conn.rollback()
        await conn.close()


def dashboard_paths(count: int) -> list[str]:
    return [f"/students/{1 + (i * 97) % 5000}/dashboard" for i in range(count)]
