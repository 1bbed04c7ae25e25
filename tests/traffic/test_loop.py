"""run_load: a load runs in its own loop and is stopped at its time bound."""

import asyncio
import time

from hubchaos.traffic.loop import run_load


def test_the_body_result_comes_back() -> None:
    async def body(stop: asyncio.Event) -> dict[str, object]:
        return {"stopped": stop.is_set()}

    assert run_load(5.0, body) == {"stopped": False, "stopped_by": None}


def test_a_body_waiting_for_stop_ends_at_max_seconds() -> None:
    async def body(stop: asyncio.Event) -> dict[str, object]:
        await stop.wait()
        return {"stopped": True}

    started = time.monotonic()
    assert run_load(0.3, body) == {"stopped": True, "stopped_by": "deadline"}
    assert 0.25 <= time.monotonic() - started < 2.0
