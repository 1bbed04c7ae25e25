"""All proxies by name, and the operations of the API on them.

Every change runs under one asyncio lock, and nothing under it waits for
traffic: binding a port is immediate, toxics are rewired in place. So a
request can never hang behind a busy or stuck connection.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from hubchaos.proxy import errors
from hubchaos.proxy.addresses import parse_address
from hubchaos.proxy.errors import ApiError, BadRequest, InvalidAttribute
from hubchaos.proxy.loops import refuse_loop
from hubchaos.proxy.proxy import Proxy, upstream_target
from hubchaos.proxy.reactor import Reactor
from hubchaos.proxy.toxic import Toxic, parse_toxic, parse_update, present

PROXY_FIELDS = frozenset({"name", "listen", "upstream", "enabled", "toxics"})
DEFAULT_LISTEN = "127.0.0.1:0"


@dataclass
class ProxySpec:
    """A validated proxy definition from the API or a config file."""

    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: list[Any] | None = field(default=None)  # raw toxic bodies, validated on use


class PopulateError(ApiError):
    """A populate that failed part way: the proxies made so far are reported too."""

    def __init__(self, cause: ApiError, created: list[Proxy]) -> None:
        super().__init__(cause.message, cause.status)
        self.created = created


class ProxyCollection:
    def __init__(self, loop: asyncio.AbstractEventLoop, seed: int | None = None) -> None:
        self.loop = loop
        self.reactor = Reactor(loop)
        self.seed = seed
        self.proxies: dict[str, Proxy] = {}
        self.lock = asyncio.Lock()

    def rng_for(self, proxy: str, toxic: str) -> random.Random:
        """One generator per toxic; with --seed it depends only on the seed and names."""
        if self.seed is None:
            return random.Random()
        return random.Random(f"{self.seed}/{proxy}/{toxic}")

    def get(self, name: str) -> Proxy:
        proxy = self.proxies.get(name)
        if proxy is None:
            raise errors.proxy_not_found()
        return proxy

    # -- proxies ----------------------------------------------------------

    async def create(self, body: object) -> Proxy:
        spec = parse_proxy(body, defaults_enabled=True)
        async with self.lock:
            if spec.name in self.proxies:
                raise errors.proxy_exists()
            proxy = await self._build(spec)
            self.proxies[spec.name] = proxy
            return proxy

    async def update(self, name: str, body: object) -> Proxy:
        async with self.lock:
            proxy = self.get(name)
            if not isinstance(body, dict):
                raise errors.bad_body("expected a JSON object")
            _reject_unknown(body)
            body = present(body)
            given_name = body.get("name")
            if given_name not in (None, "", name):
                raise InvalidAttribute("name", "a proxy can't be renamed; delete and create it")
            listen = body.get("listen", proxy.listen)
            upstream = body.get("upstream", proxy.upstream)
            enabled = _bool(body.get("enabled", proxy.enabled), "enabled")
            if listen == "":
                listen = proxy.listen
            listen, upstream = _text(listen, "listen"), _text(upstream, "upstream")
            if enabled:  # before anything moves: a refused update changes nothing
                listen_address = parse_address(listen, "listen", allow_zero_port=True)
                self._refuse_loop(proxy, upstream, listen_address)
            if listen != proxy.listen or upstream != proxy.upstream:
                await proxy.move(listen, upstream)
            if enabled and not proxy.enabled:
                await proxy.start()
            elif not enabled and proxy.enabled:
                proxy.stop()
            self._stop_if_looping(proxy)
            return proxy

    async def delete(self, name: str) -> None:
        async with self.lock:
            proxy = self.get(name)
            proxy.stop()
            del self.proxies[name]

    async def populate(self, body: object) -> list[Proxy]:
        """Create or replace proxies; one with the same listen and upstream is kept."""
        if not isinstance(body, list):
            raise errors.bad_body("expected a JSON array of proxies")
        specs = [parse_proxy(item, defaults_enabled=True, index=i) for i, item in enumerate(body)]
        for spec in specs:  # validate every toxic before touching anything
            self._toxics_of(spec)
        done: list[Proxy] = []
        async with self.lock:
            for spec in specs:
                try:
                    done.append(await self._populate_one(spec))
                except ApiError as exc:
                    raise PopulateError(exc, done) from None
        return done

    async def _populate_one(self, spec: ProxySpec) -> Proxy:
        existing = self.proxies.get(spec.name)
        if existing is not None:
            if existing.listen == spec.listen and existing.upstream == spec.upstream:
                if spec.toxics is not None:
                    existing.remove_all_toxics()
                    for toxic in self._toxics_of(spec):
                        existing.add_toxic(toxic)
                return existing
            existing.stop()
            del self.proxies[spec.name]
        proxy = await self._build(spec)
        self.proxies[spec.name] = proxy
        return proxy

    async def reset(self) -> None:
        """Enable every proxy and remove every toxic (POST /reset)."""
        async with self.lock:
            failure: ApiError | None = None
            for proxy in self.proxies.values():
                proxy.remove_all_toxics()
                if not proxy.enabled:
                    try:
                        await proxy.start()
                        self._stop_if_looping(proxy)
                    except ApiError as exc:
                        message = f"proxy {proxy.name}: {exc.message}"
                        failure = failure or ApiError(message, exc.status)
            if failure is not None:
                raise failure

    async def close_all(self) -> None:
        async with self.lock:
            for proxy in self.proxies.values():
                proxy.stop()
            self.reactor.close()

    async def _build(self, spec: ProxySpec) -> Proxy:
        proxy = Proxy(spec.name, spec.listen, spec.upstream, self.reactor)
        for toxic in self._toxics_of(spec):
            proxy.add_toxic(toxic)
        if spec.enabled:
            self._refuse_loop(proxy, proxy.upstream, proxy.listen_address)
            await proxy.start()
            self._stop_if_looping(proxy)
        return proxy

    # -- loops ------------------------------------------------------------

    def _refuse_loop(self, proxy: Proxy, upstream: str, listen_address: tuple[str, int]) -> None:
        """400 when `upstream` is `proxy`'s listen address or another running proxy's."""
        listeners = [
            (other.name, other.listen_address)
            for other in self.proxies.values()
            if other.enabled and other is not proxy
        ]
        listeners.append((proxy.name, listen_address))
        refuse_loop(upstream, upstream_target(upstream), listeners)

    def _stop_if_looping(self, proxy: Proxy) -> None:
        """After binding (a port 0 is known only then): a running proxy must not loop."""
        if not proxy.enabled:
            return
        try:
            self._refuse_loop(proxy, proxy.upstream, proxy.listen_address)
        except ApiError:
            proxy.stop()
            raise

    def _toxics_of(self, spec: ProxySpec) -> list[Toxic]:
        if not spec.toxics:
            return []
        made: list[Toxic] = []
        for raw in spec.toxics:
            toxic = parse_toxic(raw, lambda name: self.rng_for(spec.name, name))
            if any(other.name == toxic.name for other in made):
                raise errors.toxic_exists()
            made.append(toxic)
        return made

    # -- toxics -----------------------------------------------------------

    async def add_toxic(self, proxy_name: str, body: object) -> Toxic:
        async with self.lock:
            proxy = self.get(proxy_name)
            toxic = parse_toxic(body, lambda name: self.rng_for(proxy_name, name))
            proxy.add_toxic(toxic)
            return toxic

    async def update_toxic(self, proxy_name: str, toxic_name: str, body: object) -> Toxic:
        async with self.lock:
            proxy = self.get(proxy_name)
            toxic = proxy.get_toxic(toxic_name)
            attrs, toxicity = parse_update(toxic, body)
            proxy.update_toxic(toxic, attrs, toxicity)
            return toxic

    async def remove_toxic(self, proxy_name: str, toxic_name: str) -> None:
        async with self.lock:
            self.get(proxy_name).remove_toxic(toxic_name)


def parse_proxy(body: object, *, defaults_enabled: bool, index: int | None = None) -> ProxySpec:
    """Validate a proxy definition (create, populate or config file)."""
    where = "" if index is None else f" at proxy {index + 1}"
    if not isinstance(body, dict):
        raise errors.bad_body(f"expected a JSON object{where}")
    _reject_unknown(body)
    body = present(body)
    name = body.get("name")
    if name is None or name == "":
        raise errors.missing_field(f"name{where}")
    name = _text(name, "name")
    if "/" in name or len(name) > 200 or not name.isprintable():
        raise InvalidAttribute("name", "must be printable, at most 200 characters, without '/'")
    upstream = body.get("upstream")
    if upstream is None or upstream == "":
        raise errors.missing_field(f"upstream{where}")
    listen = body.get("listen")
    if listen is None or listen == "":
        listen = DEFAULT_LISTEN
    toxics = body.get("toxics")
    if toxics is not None and not isinstance(toxics, list):
        raise errors.bad_body("field 'toxics' must be a list of toxics")
    return ProxySpec(
        name=name,
        listen=_text(listen, "listen"),
        upstream=_text(upstream, "upstream"),
        enabled=_bool(body.get("enabled", defaults_enabled), "enabled"),
        toxics=toxics,
    )


def _reject_unknown(body: dict[str, Any]) -> None:
    for key in body:
        if key not in PROXY_FIELDS:
            raise BadRequest(
                f"invalid field {key!r}: unknown (expected: {', '.join(sorted(PROXY_FIELDS))})"
            )


def _text(value: object, field_name: str) -> str:
    if not isinstance(value, str):
        raise errors.bad_body(f"field {field_name!r} must be a string, got {value!r}")
    return value


def _bool(value: object, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise errors.bad_body(f"field {field_name!r} must be true or false, got {value!r}")
    return value
