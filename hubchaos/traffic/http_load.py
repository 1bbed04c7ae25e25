"""HTTP load over a weighted route mix: `concurrency` keep-alive workers, bounded
by a request budget and a duration, summarised as status counts, latency
percentiles, errors by kind and the share of fast 503s."""

import asyncio
import bisect
import contextlib
import errno
import random
import re
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from hubchaos.activity.addresses import url_host_port
from hubchaos.activity.arguments import MAX_FLOOD_CONNECTIONS, as_float, as_int, as_positive_float
from hubchaos.activity.blast_radius import ensure_allowed_url
from hubchaos.activity.settings import app_url
from hubchaos.traffic.backoff import Backoff
from hubchaos.traffic.http_client import (
    ConnectionClosed,
    HttpConnection,
    ProtocolError,
    Request,
    encode_request,
)
from hubchaos.traffic.http_tally import LoadTally
from hubchaos.traffic.transport_errors import record as record_transport_error

# What the incident's users did: open dashboards and read the classroom chat.
DEFAULT_ROUTES: list[dict[str, Any]] = [
    {"method": "GET", "path": "/students/1/dashboard", "weight": 3},
    {"method": "GET", "path": "/rooms/general/messages", "weight": 2},
]
# What may go on the wire verbatim: a path without spaces or controls,
# header names as RFC 9110 tokens, header values without CR/LF.
_PATH = re.compile(r"[\x21-\x7e]+")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\x20-\x7e]*")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass
class RouteMix:
    """Pre-encoded requests and their cumulative weights for a weighted pick."""

    requests: list[Request]
    cumulative: list[float]

    def pick(self, rand: "random.Random") -> int:
        """Index of a request, chosen by weight."""
        if len(self.requests) == 1:
            return 0
        return bisect.bisect_right(self.cumulative, rand.random() * self.cumulative[-1])


def _check_text(number: int, path: str, headers: dict[Any, Any]) -> None:
    if not _PATH.fullmatch(path):
        raise ActivityFailed(
            f"route {number}: path {path!r} must be printable ASCII without spaces "
            "(percent-encode it)"
        )
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(str(name)) or not _HEADER_VALUE.fullmatch(str(value)):
            raise ActivityFailed(f"route {number}: invalid header {name!r}: {value!r}")


def build_route_mix(routes: list[dict[str, Any]], host_header: str, base_path: str) -> RouteMix:
    """Validate the experiment's route list and encode each request once."""
    if not isinstance(routes, list) or not routes:
        raise ActivityFailed("argument routes must be a non-empty list of {method, path, weight}")
    requests: list[Request] = []
    cumulative: list[float] = []
    total = 0.0
    for number, route in enumerate(routes, start=1):
        if not isinstance(route, dict) or not isinstance(route.get("path"), str):
            raise ActivityFailed(f"route {number} must be a mapping with a 'path' string")
        method = str(route.get("method", "GET")).upper()
        if method not in _METHODS:
            raise ActivityFailed(f"route {number}: unsupported HTTP method {method!r}")
        try:
            weight = float(route.get("weight", 1))
        except (TypeError, ValueError):
            weight = -1.0
        if not weight > 0:
            raise ActivityFailed(f"route {number}: weight must be a number greater than 0")
        headers = route.get("headers") or {}
        if not isinstance(headers, dict):
            raise ActivityFailed(f"route {number}: headers must be a mapping")
        _check_text(number, route["path"], headers)
        path = route["path"] if route["path"].startswith("/") else "/" + route["path"]
        full_path = base_path.rstrip("/") + path
        requests.append(
            encode_request(
                method,
                full_path,
                host_header,
                route.get("json"),
                {str(k): str(v) for k, v in headers.items()},
            )
        )
        total += weight
        cumulative.append(total)
    return RouteMix(requests, cumulative)


@dataclass
class LoadPlan:
    scheme: str
    host: str
    port: int
    mix: RouteMix
    concurrency: int
    duration_seconds: float
    max_requests: int
    timeout: float
    fast_503_ms: float


def load_plan(
    url: str,
    routes: list | None,
    concurrency: Any,
    duration_seconds: Any,
    max_requests: Any,
    timeout: Any,
    fast_503_ms: Any,
    configuration: Configuration | None,
) -> tuple[LoadPlan, str]:
    """Check the arguments of an HTTP load and encode its route mix."""
    base = app_url(url, configuration)
    scheme, host, port = url_host_port(base)
    ensure_allowed_url(base, configuration)
    parts = urlsplit(base)
    if routes is None and parts.path not in ("", "/"):
        # a URL with a path and no route list means "just this URL"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        routes, base_path = [{"method": "GET", "path": path}], ""
    else:
        base_path = parts.path
    default_port = 443 if scheme == "https" else 80
    name = f"[{host}]" if ":" in host else host  # an IPv6 literal
    host_header = name if port == default_port else f"{name}:{port}"
    plan = LoadPlan(
        scheme=scheme,
        host=host,
        port=port,
        mix=build_route_mix(DEFAULT_ROUTES if routes is None else routes, host_header, base_path),
        concurrency=as_int("concurrency", concurrency, 1, MAX_FLOOD_CONNECTIONS),
        duration_seconds=as_positive_float("duration_seconds", duration_seconds),
        max_requests=as_int("max_requests", max_requests, 1, 100_000_000),
        timeout=as_positive_float("timeout", timeout, 300.0),
        fast_503_ms=as_float("fast_503_ms", fast_503_ms, 0.0, 300_000.0),
    )
    return plan, f"{scheme}://{host}:{port}{base_path}"


def error_kind(error: BaseException, connecting: bool) -> str:
    if isinstance(error, asyncio.TimeoutError | TimeoutError):
        return "connect_timeout" if connecting else "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(error, ConnectionClosed):
        return "connection_closed"
    if isinstance(error, ConnectionResetError):
        return "connection_reset"
    if isinstance(error, ProtocolError):
        return "protocol_error"
    if isinstance(error, ssl.SSLError):
        return "tls_error"
    if isinstance(error, OSError) and error.errno is not None:
        return errno.errorcode.get(error.errno, type(error).__name__).lower()
    return type(error).__name__


async def _open(plan: LoadPlan) -> HttpConnection:
    loop = asyncio.get_running_loop()
    context = ssl.create_default_context() if plan.scheme == "https" else None
    _transport, connection = await asyncio.wait_for(
        loop.create_connection(
            HttpConnection,
            plan.host,
            plan.port,
            ssl=context,
            server_hostname=plan.host if context else None,
        ),
        plan.timeout,
    )
    return connection


async def _worker(
    plan: LoadPlan,
    tally: LoadTally,
    budget: list[int],
    seed: int,
    live: set[HttpConnection],
) -> None:
    rand = random.Random(seed)
    backoff = Backoff(rand)  # a refused connection must not make the worker spin
    conn: HttpConnection | None = None
    try:
        while budget[0] > 0:
            budget[0] -= 1
            index = plan.mix.pick(rand)
            request, route = plan.mix.requests[index], tally.routes[index]
            route.sent += 1
            started = time.perf_counter()
            reused = False
            while True:  # at most one retry: a stale keep-alive connection
                connecting = conn is None or conn.closed
                try:
                    if conn is None or conn.closed:
                        if conn is not None:
                            live.discard(conn)  # closed by the server meanwhile
                        conn, reused = await _open(plan), False
                        live.add(conn)
                    else:
                        reused = True
                    connecting = False
                    remaining = plan.timeout - (time.perf_counter() - started)
                    response = await conn.send(request, max(0.001, remaining))
                except (TimeoutError, OSError, ProtocolError) as exc:
                    if conn is not None:
                        conn.abort()
                        live.discard(conn)
                    conn = None
                    if reused and isinstance(exc, ConnectionClosed) and not exc.received_anything:
                        continue  # the server dropped an idle connection: not a failure
                    kind = error_kind(exc, connecting)
                    route.errors[kind] += 1
                    record_transport_error(kind)  # for the live panel and the journal
                    await backoff.failed()
                    break
                backoff.succeeded()
                route.response(
                    response.status,
                    time.perf_counter() - started,
                    response.retry_after,
                    tally.fast_503_seconds,
                )
                if not response.keep_alive:
                    conn.abort()
                    live.discard(conn)
                    conn = None
                break
    finally:
        if conn is not None:
            conn.abort()
            live.discard(conn)


async def _watchdog(live: set[HttpConnection], timeout: float) -> None:
    """Expire responses past their deadline (one sweep instead of a timer per request)."""
    loop = asyncio.get_running_loop()
    interval = max(0.005, min(0.05, timeout / 10))
    while True:
        await asyncio.sleep(interval)
        now = loop.time()
        for conn in [c for c in live if c.deadline and c.deadline <= now]:
            conn.expire()


async def http_load(plan: LoadPlan, target: str, stop: asyncio.Event) -> dict[str, Any]:
    """Run the load until the budget is spent, the duration is over or `stop` is set."""
    labels = [f"{request.method} {request.path}" for request in plan.mix.requests]
    tally = LoadTally(labels, plan.fast_503_ms / 1000.0)
    budget = [plan.max_requests]
    seed = random.randrange(1 << 30)
    live: set[HttpConnection] = set()
    watchdog = asyncio.ensure_future(_watchdog(live, plan.timeout))
    workers = [
        asyncio.ensure_future(_worker(plan, tally, budget, seed + n, live))
        for n in range(plan.concurrency)
    ]
    all_done = asyncio.gather(*workers)
    stop_waiter = asyncio.ensure_future(stop.wait())
    try:
        racing: set[asyncio.Future[Any]] = {all_done, stop_waiter}
        await asyncio.wait(racing, timeout=plan.duration_seconds, return_when="FIRST_COMPLETED")
    finally:
        end = time.perf_counter()
        budget[0] = 0
        for worker in workers:
            worker.cancel()  # in-flight requests are abandoned, their sockets aborted
        with contextlib.suppress(BaseException):
            await all_done
        stop_waiter.cancel()
        watchdog.cancel()
    for worker in workers:  # a crashed worker is a bug in the driver, not a load result
        if worker.done() and not worker.cancelled() and worker.exception() is not None:
            raise ActivityFailed(f"{target}: load worker crashed: {worker.exception()!r}")
    return tally.result(target, end)
