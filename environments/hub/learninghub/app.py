"""Assemble the Starlette app: routes, error handlers, metrics middleware, pool lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from learninghub import chat, dashboard, probes
from learninghub.context import Hub
from learninghub.database import Database
from learninghub.errors import HTTPProblem
from learninghub.health import DatabaseHealth
from learninghub.metrics import HubMetrics
from learninghub.middleware import ObservabilityMiddleware
from learninghub.responses import http_exception_handler, problem_handler
from learninghub.settings import Settings

log = logging.getLogger("learninghub.app")

ROUTES = [
    Route("/students/{id:int}/dashboard", dashboard.student_dashboard, methods=["GET"]),
    Route("/rooms/{room}/messages", chat.list_messages, methods=["GET"]),
    Route("/rooms/{room}/messages", chat.post_message, methods=["POST"]),
    Route("/healthz", probes.healthz, methods=["GET"]),
    Route("/readyz", probes.readyz, methods=["GET"]),
    Route("/metrics", probes.metrics, methods=["GET"]),
]


def create_app(settings: Settings) -> Starlette:
    metrics = HubMetrics(settings.pool_name)
    database = Database(settings, metrics)
    hub = Hub(settings, metrics, database, DatabaseHealth(database, settings, metrics))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await database.open()
        checker = asyncio.create_task(hub.health.run(), name="db-health")
        log.info("learninghub started")
        try:
            yield
        finally:
            checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checker
            await database.close()
            log.info("learninghub stopped")

    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(ObservabilityMiddleware, metrics=metrics)],
        exception_handlers={HTTPProblem: problem_handler, HTTPException: http_exception_handler},
        lifespan=lifespan,
    )
    app.state.hub = hub
    return app
