"""Pacing shared by the connection floods: start N things at up to R per second,
hold each for a while, and give up early as soon as the stop event is set."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def wait_or_stop(stop_waiter: "asyncio.Future[Any]", seconds: float) -> bool:
    """Sleep up to `seconds`; True when the stop event fired first."""
    if stop_waiter.done():
        return True
    if seconds <= 0:
        return False
    done, _ = await asyncio.wait({stop_waiter}, timeout=seconds)
    return bool(done)


async def _finish(attempt: "asyncio.Future[Any]") -> None:
    if not attempt.done():
        attempt.cancel()
        with contextlib.suppress(BaseException):
            await attempt


async def attempt_until_stopped(
    attempt: "asyncio.Future[T]",
    stop_waiter: "asyncio.Future[Any]",
    release: Callable[[T], Awaitable[None]],
) -> None:
    """Wait for a connection `attempt` unless the stop comes first.

    On return the attempt is finished: completed, failed or (stopped
    mid-handshake) cancelled; the caller judges it by its own outcome, so a
    connection made just as the stop arrived is still counted and closed. If
    this task itself is cancelled, a connection the attempt made anyway is
    handed to `release` before the cancellation goes on.
    """
    racing: set[asyncio.Future[Any]] = {attempt, stop_waiter}
    try:
        await asyncio.wait(racing, return_when="FIRST_COMPLETED")
    except BaseException:
        await _finish(attempt)
        if not attempt.cancelled() and attempt.exception() is None:
            await release(attempt.result())
        raise
    await _finish(attempt)


async def paced(
    count: int,
    rate: float,
    max_in_flight: int,
    stop: asyncio.Event,
    start_one: Callable[[int, "asyncio.Future[Any]", asyncio.Semaphore], Awaitable[None]],
) -> int:
    """Start `start_one(i, stop_waiter, in_flight)` for i < count at `rate` per second.

    `in_flight` bounds how many attempts are still connecting (the callee
    releases it once its connection attempt has finished), so a slow server
    does not pile up thousands of half-open handshakes. Returns how many were
    started; waits until every started one has finished.
    """
    loop = asyncio.get_running_loop()
    stop_waiter: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    in_flight = asyncio.Semaphore(max_in_flight)
    tasks: set[asyncio.Task[None]] = set()
    started = 0
    begin = loop.time()
    try:
        for index in range(count):
            if await wait_or_stop(stop_waiter, begin + index / rate - loop.time()):
                break
            await in_flight.acquire()
            if stop_waiter.done():
                in_flight.release()
                break
            task = asyncio.ensure_future(start_one(index, stop_waiter, in_flight))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            started += 1
        if tasks:
            await asyncio.gather(*list(tasks))
    finally:
        # Cancelled (Ctrl-C in this thread): the children run their own cleanup.
        for task in list(tasks):
            task.cancel()
        if tasks:
            await asyncio.gather(*list(tasks), return_exceptions=True)
        stop_waiter.cancel()
    return started
