"""http_spike against real HTTP servers on loopback: a Starlette app under
uvicorn (the stack the hub app uses) and a hand-written server that answers in
awkward shapes (tiny fragments, interim responses, read-until-close bodies)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from hubchaos.actions.flood import http_spike, stop_floods
from tests.conftest import free_port, refused_port

SLOW_SECONDS = 0.2
SLOW_503_SECONDS = 1.0  # far beyond the fast-503 threshold the tests use


async def ok(request: Request) -> Response:
    return PlainTextResponse("ok")


async def busy(request: Request) -> Response:
    """What the app does when its pool is exhausted: fail fast with Retry-After."""
    return PlainTextResponse("busy", status_code=503, headers={"Retry-After": "1"})


async def slow_busy(request: Request) -> Response:
    await asyncio.sleep(SLOW_503_SECONDS)
    return PlainTextResponse("busy", status_code=503, headers={"Retry-After": "1"})


async def bare_busy(request: Request) -> Response:
    return PlainTextResponse("busy", status_code=503)


async def slow(request: Request) -> Response:
    await asyncio.sleep(SLOW_SECONDS)
    return PlainTextResponse("slow")


async def chunked(request: Request) -> Response:
    async def parts() -> Any:
        for _ in range(5):
            yield b"x" * 700
            await asyncio.sleep(0)

    return StreamingResponse(parts(), media_type="text/plain")


async def echo(request: Request) -> Response:
    body = await request.json()
    return PlainTextResponse("created", status_code=201 if body == {"text": "hello"} else 400)


async def closing(request: Request) -> Response:
    return PlainTextResponse("bye", headers={"Connection": "close"})


async def hang(request: Request) -> Response:
    await asyncio.sleep(3)
    return PlainTextResponse("late")


async def broken(request: Request) -> Response:
    return PlainTextResponse("boom", status_code=500)


def make_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/ok", ok),
            Route("/busy", busy),
            Route("/slow-busy", slow_busy),
            Route("/bare-busy", bare_busy),
            Route("/slow", slow),
            Route("/chunked", chunked),
            Route("/echo", echo, methods=["POST"]),
            Route("/close", closing),
            Route("/hang", hang),
            Route("/broken", broken),
        ]
    )


@contextlib.contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """Run `app` under uvicorn in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="error",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-http-server")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(make_app()) as url:
        yield url


def test_spike_counts_statuses_per_route_and_in_total(base_url: str) -> None:
    result = http_spike(
        url=base_url,
        concurrency=8,
        duration_seconds=1.5,
        routes=[
            {"method": "GET", "path": "/ok", "weight": 3},
            {"method": "GET", "path": "/busy", "weight": 1},
            {"method": "GET", "path": "/chunked", "weight": 1},
            {"method": "POST", "path": "/echo", "weight": 1, "json": {"text": "hello"}},
            {"method": "GET", "path": "/broken", "weight": 1},
        ],
    )
    statuses = result["status_counts"]
    assert set(statuses) == {"200", "201", "500", "503"}
    assert sum(statuses.values()) == result["responses"] == result["requests"]
    assert result["errors_by_kind"] == {}
    assert result["requests"] >= 100
    routes = {route["route"]: route for route in result["routes"]}
    assert set(routes) == {"GET /ok", "GET /busy", "GET /chunked", "POST /echo", "GET /broken"}
    assert set(routes["GET /ok"]["status_counts"]) == {"200"}
    assert set(routes["GET /chunked"]["status_counts"]) == {"200"}
    assert set(routes["POST /echo"]["status_counts"]) == {"201"}  # the JSON body arrived
    assert set(routes["GET /broken"]["status_counts"]) == {"500"}
    # weights 3:1:1:1:1 -> /ok gets about 3/7 of the requests
    share_ok = routes["GET /ok"]["requests"] / result["requests"]
    assert 0.25 < share_ok < 0.6
    expected_errors = statuses["500"] + statuses["503"]
    assert result["error_rate"] == pytest.approx(expected_errors / result["requests"], abs=1e-3)
    # every 503 here is immediate and carries Retry-After
    assert result["fast_503"] == statuses["503"] == result["503_with_retry_after"]
    assert result["fast_503_share"] == 1.0
    assert result["requests_per_second"] > 0
    assert result["stopped_by"] is None


def test_latency_percentiles_reflect_the_slow_route(base_url: str) -> None:
    result = http_spike(
        url=base_url,
        concurrency=4,
        duration_seconds=1.5,
        routes=[{"path": "/ok", "weight": 1}, {"path": "/slow", "weight": 1}],
    )
    routes = {route["route"]: route for route in result["routes"]}
    slow_ms = routes["GET /slow"]["latency_ms"]
    fast_ms = routes["GET /ok"]["latency_ms"]
    assert slow_ms["p50"] >= SLOW_SECONDS * 1000 * 0.95
    assert fast_ms["p50"] < SLOW_SECONDS * 1000 / 2
    assert result["latency_ms"]["p99"] >= SLOW_SECONDS * 1000 * 0.95
    assert result["ok_latency_ms"]["count"] == result["responses"]


def test_fast_503_share_separates_fast_from_slow_and_bare_503s(base_url: str) -> None:
    result = http_spike(
        url=base_url,
        concurrency=6,
        duration_seconds=30,
        max_requests=30,
        fast_503_ms=500,
        routes=[{"path": "/busy"}, {"path": "/slow-busy"}, {"path": "/bare-busy"}],
    )
    assert result["requests"] == 30
    routes = {route["route"]: route for route in result["routes"]}
    assert routes["GET /busy"]["fast_503_share"] == 1.0
    assert routes["GET /slow-busy"]["fast_503_share"] == 0.0  # answered after 1 s
    assert routes["GET /bare-busy"]["fast_503_share"] == 0.0  # no Retry-After
    total_503 = result["status_counts"]["503"]
    assert result["fast_503"] == routes["GET /busy"]["fast_503"]
    assert result["fast_503_share"] == pytest.approx(result["fast_503"] / total_503, abs=1e-3)
    assert 0 < result["fast_503_share"] < 1


def test_connection_close_responses_reconnect_without_errors(base_url: str) -> None:
    result = http_spike(
        url=base_url + "/close", concurrency=2, duration_seconds=0.5, max_requests=40
    )
    assert result["status_counts"] == {"200": 40}
    assert result["errors_by_kind"] == {}


def test_timeouts_and_refused_connections_are_errors_by_kind(base_url: str) -> None:
    hung = http_spike(
        url=base_url + "/hang", concurrency=3, duration_seconds=5, timeout=0.3, max_requests=3
    )
    assert hung["errors_by_kind"] == {"timeout": 3}
    assert hung["error_rate"] == 1.0
    assert hung["duration_seconds"] < 3
    refused = http_spike(
        url=f"http://127.0.0.1:{refused_port()}/", concurrency=2, duration_seconds=5, max_requests=4
    )
    assert refused["errors_by_kind"] == {"connection_refused": 4}
    assert refused["status_counts"] == {}


def test_stop_floods_ends_a_running_spike_early(base_url: str) -> None:
    results: list[dict[str, Any]] = []
    spike = threading.Thread(
        target=lambda: results.append(
            http_spike(url=base_url + "/slow", concurrency=4, duration_seconds=60)
        )
    )
    spike.start()
    try:
        time.sleep(0.5)
        stopped = stop_floods(timeout_seconds=20)
    finally:
        spike.join(timeout=30)
    assert not spike.is_alive()
    assert stopped["count"] == 1 and stopped["stopped"][0]["kind"] == "http_spike"
    (result,) = results
    assert result["stopped_by"] == "stop_floods"
    assert result["duration_seconds"] < 10
    assert result["status_counts"].get("200", 0) > 0


# --- a server that answers in awkward but valid HTTP/1.1 shapes ------------------------

_SHAPES = {
    # chunked body with a chunk extension and a trailer
    b"/chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"
    ),
    # an interim 100 Continue before the real answer
    b"/interim": (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\nContent-Length: 4\r\n\r\nbusy"
    ),
    b"/empty": b"HTTP/1.1 204 No Content\r\n\r\n",
    # HTTP/1.0 without a length: the body ends when the server closes
    b"/until-close": b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it",
    b"/garbage": b"SPDY/3 nonsense\r\n\r\n",
}


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reply per path, writing each response in 3-byte fragments."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ")[1]
            reply = _SHAPES[path]
            for start in range(0, len(reply), 3):
                writer.write(reply[start : start + 3])
                await writer.drain()
            if path in (b"/until-close", b"/garbage"):
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@pytest.fixture(scope="module")
def shapes_url() -> Iterator[str]:
    ready = threading.Event()
    stop: list[asyncio.AbstractEventLoop] = []
    port = free_port()

    async def main() -> None:
        server = await asyncio.start_server(_answer, "127.0.0.1", port)
        stop.append(asyncio.get_running_loop())
        ready.set()
        async with server:
            await asyncio.Event().wait()

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(main())

    thread = threading.Thread(target=run, name="test-shapes-server")
    thread.start()
    assert ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop = stop[0]
        loop.call_soon_threadsafe(lambda: [task.cancel() for task in asyncio.all_tasks(loop)])
        thread.join(timeout=10)


@pytest.mark.parametrize(
    ("path", "statuses", "errors"),
    [
        ("/chunked", {"200": 20}, {}),
        ("/interim", {"503": 20}, {}),
        ("/empty", {"204": 20}, {}),
        ("/until-close", {"200": 20}, {}),
        ("/garbage", {}, {"protocol_error": 20}),
    ],
)
def test_the_client_parses_fragmented_and_unusual_responses(
    shapes_url: str, path: str, statuses: dict[str, int], errors: dict[str, int]
) -> None:
    result = http_spike(
        url=shapes_url + path, concurrency=2, duration_seconds=10, timeout=2, max_requests=20
    )
    assert result["status_counts"] == statuses
    assert result["errors_by_kind"] == errors
    if path == "/interim":
        assert result["fast_503"] == 20  # Retry-After seen on the final response
