"""The Toxiproxy 2.x HTTP API: routes, JSON bodies, status codes and error bodies."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import Any
from urllib.parse import unquote

from hubchaos.proxy import errors, metrics
from hubchaos.proxy.errors import ApiError
from hubchaos.proxy.http import MAX_BODY, Request, Response
from hubchaos.proxy.model import PopulateError, ProxyCollection

log = logging.getLogger(__name__)

# The upstream API level this server speaks; semver build metadata says who we are.
TOXIPROXY_API_VERSION = "2.12.0"


def _hubchaos_version() -> str:
    # From the installed distribution, not `hubchaos.__version__`: the proxy
    # imports nothing of the runner (one version, set in pyproject.toml).
    try:
        return metadata.version("hubchaos")
    except metadata.PackageNotFoundError:
        return "0+unknown"


VERSION = f"{TOXIPROXY_API_VERSION}+hubchaos.{_hubchaos_version()}"

Params = dict[str, str]
Route = Callable[[Request, Params], Awaitable[Response]]


class Api:
    def __init__(self, collection: ProxyCollection) -> None:
        self.collection = collection
        # (path pattern, {method: handler}); "{x}" captures one path segment.
        self.routes: list[tuple[tuple[str, ...], dict[str, Route]]] = [
            (("reset",), {"POST": self.reset}),
            (("version",), {"GET": self.version}),
            (("metrics",), {"GET": self.metrics}),
            (("populate",), {"POST": self.populate}),
            (("proxies",), {"GET": self.list_proxies, "POST": self.create_proxy}),
            (
                ("proxies", "{proxy}"),
                {
                    "GET": self.show_proxy,
                    "POST": self.update_proxy,
                    "PATCH": self.update_proxy,
                    "DELETE": self.delete_proxy,
                },
            ),
            (
                ("proxies", "{proxy}", "toxics"),
                {"GET": self.list_toxics, "POST": self.create_toxic},
            ),
            (
                ("proxies", "{proxy}", "toxics", "{toxic}"),
                {
                    "GET": self.show_toxic,
                    "POST": self.update_toxic,
                    "PATCH": self.update_toxic,
                    "DELETE": self.delete_toxic,
                },
            ),
        ]

    async def handle(self, request: Request) -> Response:
        if request.headers.get("user-agent", "").startswith("Mozilla/"):
            # As upstream: a web page must not drive the proxy from a browser.
            return Response(403, b"User agent not allowed\n", "text/plain; charset=utf-8")
        try:
            route, params, allowed = self._match(request)
            if route is None:
                if allowed:
                    return _error(405, "method not allowed", {"Allow": ", ".join(allowed)})
                return _error(404, "not found")
            return await route(request, params)
        except ApiError as exc:
            return Response.json(exc.status, exc.body())

    def _match(self, request: Request) -> tuple[Route | None, Params, list[str]]:
        segments = request.path.split("/")[1:]
        try:
            segments = [unquote(segment, errors="strict") for segment in segments]
        except UnicodeDecodeError:
            raise ApiError("path is not valid UTF-8", 400) from None
        for pattern, methods in self.routes:
            params = _bind(pattern, segments)
            if params is None:
                continue
            return methods.get(request.method), params, sorted(methods)
        return None, {}, []

    # -- handlers ---------------------------------------------------------

    async def version(self, request: Request, params: Params) -> Response:
        body = json.dumps({"version": VERSION}).encode() + b"\n"
        return Response(200, body, "application/json; charset=utf-8")

    async def metrics(self, request: Request, params: Params) -> Response:
        return Response(200, metrics.render(self.collection.proxies.values()), metrics.CONTENT_TYPE)

    async def reset(self, request: Request, params: Params) -> Response:
        await self.collection.reset()
        return Response(204)

    async def populate(self, request: Request, params: Params) -> Response:
        body = _json_body(request)
        try:
            proxies = await self.collection.populate(body)
        except PopulateError as exc:
            payload = {**exc.body(), "proxies": [proxy.to_json() for proxy in exc.created]}
            return Response.json(exc.status, payload)
        return Response.json(201, {"proxies": [proxy.to_json() for proxy in proxies]})

    async def list_proxies(self, request: Request, params: Params) -> Response:
        proxies = self.collection.proxies
        return Response.json(200, {name: proxy.to_json() for name, proxy in proxies.items()})

    async def create_proxy(self, request: Request, params: Params) -> Response:
        proxy = await self.collection.create(_json_body(request))
        log.info("created proxy %s: %s -> %s", proxy.name, proxy.listen, proxy.upstream)
        return Response.json(201, proxy.to_json())

    async def show_proxy(self, request: Request, params: Params) -> Response:
        return Response.json(200, self.collection.get(params["proxy"]).to_json())

    async def update_proxy(self, request: Request, params: Params) -> Response:
        proxy = await self.collection.update(params["proxy"], _json_body(request))
        return Response.json(200, proxy.to_json())

    async def delete_proxy(self, request: Request, params: Params) -> Response:
        await self.collection.delete(params["proxy"])
        return Response(204)

    async def list_toxics(self, request: Request, params: Params) -> Response:
        return Response.json(200, self.collection.get(params["proxy"]).toxics_json())

    async def create_toxic(self, request: Request, params: Params) -> Response:
        self.collection.get(params["proxy"])  # 404 before looking at the body, as upstream
        toxic = await self.collection.add_toxic(params["proxy"], _json_body(request))
        return Response.json(200, toxic.to_json())

    async def show_toxic(self, request: Request, params: Params) -> Response:
        toxic = self.collection.get(params["proxy"]).get_toxic(params["toxic"])
        return Response.json(200, toxic.to_json())

    async def update_toxic(self, request: Request, params: Params) -> Response:
        proxy = self.collection.get(params["proxy"])
        proxy.get_toxic(params["toxic"])
        toxic = await self.collection.update_toxic(
            params["proxy"], params["toxic"], _json_body(request)
        )
        return Response.json(200, toxic.to_json())

    async def delete_toxic(self, request: Request, params: Params) -> Response:
        await self.collection.remove_toxic(params["proxy"], params["toxic"])
        return Response(204)


def _bind(pattern: tuple[str, ...], segments: list[str]) -> Params | None:
    if len(pattern) != len(segments):
        return None
    params: Params = {}
    for expected, actual in zip(pattern, segments, strict=True):
        if expected.startswith("{"):
            if not actual:
                return None
            params[expected[1:-1]] = actual
        elif expected != actual:
            return None
    return params


def _json_body(request: Request) -> Any:
    if len(request.body) > MAX_BODY:
        raise errors.PayloadTooLarge("request body is over the 1 MiB limit")
    if not request.body.strip():
        raise errors.bad_body("empty body, expected JSON")
    try:
        return json.loads(request.body, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise errors.bad_body("not UTF-8") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise errors.bad_body(f"invalid JSON: {exc.msg} at {where}") from None
    except RecursionError:
        raise errors.bad_body("JSON nested too deeply") from None
    except ValueError as exc:
        raise errors.bad_body(str(exc)) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = Response.json(status, {"error": message, "status": status})
    if headers:
        response.headers.update(headers)
    return response
