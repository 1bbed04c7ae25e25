"""The Toxiproxy HTTP API as the toxiproxy actions use it: one server, every call
bounded, every failure an `ActivityFailed` naming the server and the cause.

The server is the one named by configuration key `hubchaos_toxiproxy_url`
(else env HUBCHAOS_TOXIPROXY_URL, else http://127.0.0.1:8474). Every call
carries an explicit timeout, 5 s per connect and per read unless
configuration key `hubchaos_toxiproxy_timeout` (seconds) says otherwise, so a
server that accepts and never answers fails the activity instead of hanging
it. (toxiproxy-python, the Toxiproxy client the conformance tests hold our
proxy to, calls its HTTP library without any timeout and keeps the server's
address in process-wide class attributes, so the actions speak the API
directly with httpx, the project's one HTTP client.) Server errors keep the
server's own words: 404, 409 and 400 bodies such as ``{"error": "proxy not
found"}`` become "Toxiproxy at URL: PATH: proxy not found", caused by
toxiproxy-python's `NotFound`, `ProxyExists` or `InvalidToxic`.
"""

import json
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from hubchaos.activity.addresses import url_host_port
from hubchaos.activity.arguments import as_positive_float
from hubchaos.activity.blast_radius import ensure_allowed_url
from hubchaos.activity.settings import setting

__all__ = ["DEFAULT_API_TIMEOUT_S", "ToxiproxyApi", "proxy_path", "toxiproxy_api"]

DEFAULT_API_TIMEOUT_S = 5.0
# Toxiproxy's own error statuses, chained as toxiproxy-python's exceptions (as its
# client raised them), so callers can tell "not found" from other failures.
_TOXIPROXY_ERRORS: dict[int, type[Exception]] = {
    400: InvalidToxic,
    404: NotFound,
    409: ProxyExists,
}


class ToxiproxyApi:
    """One Toxiproxy server, every call bounded by `timeout_s` and errors made explicit."""

    def __init__(self, url: str, timeout_s: float) -> None:
        scheme, host, port = url_host_port(url)
        if scheme != "http" or urlsplit(url).path.strip("/"):
            raise ActivityFailed(f"Toxiproxy URL {url!r} is not supported: use http://HOST:PORT")
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._base = f"http://{host}:{port}"

    def get(self, path: str) -> Any:
        return self._call("GET", path)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call("POST", path, body)

    def delete(self, path: str) -> None:
        self._call("DELETE", path)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        where = f"Toxiproxy at {self.url}"
        try:
            response = httpx.request(method, self._base + path, json=body, timeout=self.timeout_s)
        except httpx.TimeoutException as exc:
            raise ActivityFailed(
                f"{where} did not answer {path} within {self.timeout_s:g}s ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            raise ActivityFailed(f"{where} is unreachable: {_root_cause(exc)}") from exc
        if response.status_code in _TOXIPROXY_ERRORS:
            cause = _TOXIPROXY_ERRORS[response.status_code](response.content)
            raise ActivityFailed(f"{where}: {path}: {_server_error(response.content)}") from cause
        if response.status_code >= 300:
            raise ActivityFailed(
                f"{where}: {path}: HTTP {response.status_code} {_server_error(response.content)}"
            )
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ActivityFailed(f"{where}: {path}: reply is not JSON") from exc


def proxy_path(proxy: str, *rest: str) -> str:
    """/proxies/<proxy>/...: names are quoted, so "a/b" cannot reach another route."""
    return "/".join(["/proxies", *(quote(str(part), safe="") for part in (proxy, *rest))])


def toxiproxy_api(configuration: Configuration) -> ToxiproxyApi:
    """The Toxiproxy server this run targets, checked against the blast radius."""
    url = setting("hubchaos_toxiproxy_url", configuration)
    timeout_s = DEFAULT_API_TIMEOUT_S
    if configuration and configuration.get("hubchaos_toxiproxy_timeout"):
        timeout_s = as_positive_float(
            "hubchaos_toxiproxy_timeout", configuration["hubchaos_toxiproxy_timeout"], 300.0
        )
    ensure_allowed_url(url, configuration)
    return ToxiproxyApi(url, timeout_s)


def _root_cause(exc: BaseException) -> str:
    """The innermost OS error behind a transport error, e.g. "[Errno 111] Connection refused"."""
    cause: BaseException | None = exc
    innermost: BaseException = exc
    for _ in range(10):  # the chain is short; bound it anyway
        if cause is None:
            break
        innermost = cause
        cause = cause.__cause__ or cause.__context__
    return str(innermost) or type(innermost).__name__


def _server_error(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()[:200] or "no error text"
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return text.strip()[:200]
