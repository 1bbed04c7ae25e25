"""Per-request duration histogram and access log, by route template (never the raw path)."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from learninghub.log_budget import LogBudget
from learninghub.metrics import HubMetrics
from learninghub.responses import HubJSONResponse

log = logging.getLogger("learninghub.access")

UNMATCHED_ROUTE = "unmatched"
CLIENT_CLOSED = 499  # nginx's convention for "client went away before the answer"
CONVERTOR = re.compile(r"\{(\w+):\w+\}")  # "{id:int}" -> "{id}": the template users read
QUIET_ROUTES = frozenset({"/healthz", "/metrics"})  # scraped every second: debug level
ACCESS_LINES_PER_SECOND = 200  # beyond this, a flood is summarised, not logged line by line


@functools.lru_cache(maxsize=64)
def _template(path: str) -> str:
    return CONVERTOR.sub(r"{\1}", path)


class ObservabilityMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): it must not change cancellation semantics."""

    def __init__(self, app: ASGIApp, metrics: HubMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self.budget = LogBudget(ACCESS_LINES_PER_SECOND)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        status = 500
        response_started = False

        async def send_and_watch(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        except asyncio.CancelledError:
            status = CLIENT_CLOSED
            raise
        except Exception:
            # A bug, not a database condition: answer one JSON line, log the traceback once.
            log.exception("unhandled error", extra={"path": scope["path"]})
            if not response_started:
                await HubJSONResponse({"error": "internal error"}, status_code=500)(
                    scope, receive, send_and_watch
                )
        finally:
            self._record(scope, status, perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = _template(getattr(scope.get("route"), "path", UNMATCHED_ROUTE))
        method = scope["method"]
        self.metrics.observe_request(route, method, status, seconds)
        level = logging.DEBUG if route in QUIET_ROUTES and status < 500 else logging.INFO
        if not log.isEnabledFor(level):
            return
        allowed, dropped = self.budget.spend()
        if dropped:
            log.warning("access log sampled", extra={"dropped_lines": dropped})
        if not allowed:
            return
        fields = {
            "method": method,
            "route": route,
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        }
        error = scope.get("state", {}).get("error")
        if error:
            fields["error"] = error
        log.log(level, "request", extra=fields)
