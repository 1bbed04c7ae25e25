"""Operational endpoints: `/healthz` (alive), `/readyz` (database reachable), `/metrics`."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from learninghub import queries
from learninghub.context import hub_of
from learninghub.errors import PoolExhausted, ServiceUnavailable
from learninghub.metrics import CONTENT_TYPE
from learninghub.responses import HubJSONResponse, error_response

READY_TIMEOUT = 1.0  # seconds /readyz waits for a pooled connection, then for the ping


async def healthz(request: Request) -> Response:
    """The process serves HTTP; never touches the database."""
    return HubJSONResponse({"status": "alive"})


async def readyz(request: Request) -> Response:
    hub = hub_of(request)
    if not hub.health.up and not hub.database.live_connections():
        # Known down and nothing pooled: answer now instead of waiting.
        return error_response(503, f"database unreachable: {hub.health.reason}", retry_after=1)
    try:
        async with (
            asyncio.timeout(2 * READY_TIMEOUT),
            hub.database.session(timeout=READY_TIMEOUT, observe_wait=False) as session,
        ):
            await session.fetch_one(queries.PING)
    except PoolExhausted:
        # Busy is not unready: trust the background checker's latest verdict.
        if hub.health.up:
            return HubJSONResponse({"status": "ready", "pool": "busy"})
        return error_response(503, f"database unreachable: {hub.health.reason}", retry_after=1)
    except ServiceUnavailable as exc:
        return error_response(503, exc.message, retry_after=exc.retry_after)
    except TimeoutError:
        return error_response(503, "database did not answer a ping in time", retry_after=1)
    return HubJSONResponse({"status": "ready"})


async def metrics(request: Request) -> Response:
    return Response(hub_of(request).metrics.exposition(), media_type=CONTENT_TYPE)
