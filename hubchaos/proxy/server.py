"""`hubchaos proxy` in the foreground: proxies from --config, the API, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from hubchaos.proxy import config, http
from hubchaos.proxy.api import TOXIPROXY_API_VERSION, Api
from hubchaos.proxy.errors import ApiError, StartupError
from hubchaos.proxy.model import ProxyCollection

log = logging.getLogger("hubchaos.proxy")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop when installed (several times faster on the data path), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def run(
    host: str,
    port: int,
    config_file: Path | None,
    seed: int | None,
    limits: http.Limits = http.DEFAULT_LIMITS,
) -> None:
    logging.basicConfig(level=logging.INFO, format="hubchaos proxy: %(message)s", stream=sys.stderr)
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(serve(host, port, config_file, seed, limits))


async def serve(
    host: str,
    port: int,
    config_file: Path | None,
    seed: int | None,
    limits: http.Limits = http.DEFAULT_LIMITS,
) -> None:
    loop = asyncio.get_running_loop()
    collection = ProxyCollection(loop, seed)
    api = Api(collection)
    connections: set[http.HttpConnection] = set()
    try:
        server = await loop.create_server(
            lambda: http.HttpConnection(api.handle, connections, limits),
            host,
            port,
            backlog=1024,
            start_serving=False,
        )
    except OSError as exc:
        raise StartupError(
            f"can't listen on {host}:{port} for the API ({exc.strerror or exc}); "
            "choose another --port or stop what uses it"
        ) from None
    try:
        if config_file is not None:
            await _load_config(collection, config_file)
        await server.start_serving()
        gc.freeze()  # startup objects never die: keep them out of every collection
        bound = server.sockets[0].getsockname()
        print(
            f"hubchaos proxy: Toxiproxy {TOXIPROXY_API_VERSION} API on "
            f"http://{bound[0]}:{bound[1]}" + (f" (seed {seed})" if seed is not None else ""),
            flush=True,
        )
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        # A second SIGTERM must not kill the (short, bounded) cleanup half way.
        loop.remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("hubchaos proxy: shutting down", flush=True)
    finally:
        server.close()
        for connection in list(connections):
            connection.close()
        await collection.close_all()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_drain(collection), 2.0)


async def _load_config(collection: ProxyCollection, path: Path) -> None:
    entries = config.load(path)
    try:
        proxies = await collection.populate(entries)
    except ApiError as exc:
        raise StartupError(f"proxy config {path}: {exc.message}") from None
    for proxy in proxies:
        toxics = f", {len(proxy.toxics)} toxics" if proxy.toxics else ""
        state = "" if proxy.enabled else " (disabled)"
        route = f"{proxy.listen} -> {proxy.upstream}"
        print(f"hubchaos proxy: proxy {proxy.name}: {route}{toxics}{state}", flush=True)


async def _drain(collection: ProxyCollection) -> None:
    """Give aborted connections a moment to release their sockets."""
    while any(proxy.links for proxy in collection.proxies.values()):
        await asyncio.sleep(0.01)
