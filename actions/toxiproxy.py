"""Toxiproxy actions: add and remove toxics, disable and enable proxies, reset.

Each action talks to the Toxiproxy API named by the configuration key
`hubchaos_toxiproxy_url` (else the HUBCHAOS_TOXIPROXY_URL environment variable,
else http://127.0.0.1:8474) and returns what it did, e.g.
``{"toxiproxy": url, "proxy": "hub_db", "toxic": {...as the server stored it}}``.

The Toxiproxy API client (explicit timeouts, errors naming the server and
the cause) is `hubchaos.actions._toxiproxy_api`.

Ledger
------
Every toxic added and every proxy disabled is recorded in the run's durable
fault ledger (hubchaos.ledger) *before* it is applied, with its undo;
removing or re-enabling it through these actions settles the entry. If the
process dies, the dead man's switch undoes it through the Toxiproxy API. The
safety control calls `undo_all()` so that however a run ends, exactly what
this run injected is removed, and nothing else; `undo_all` is also an action,
for use as a rollback. (`ledger` is deliberately not in `__all__`: it is for
controls, not an experiment step.)
"""

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from hubchaos import ledger as fault_ledger
from hubchaos.actions._toxiproxy_api import DEFAULT_API_TIMEOUT_S
from hubchaos.actions._toxiproxy_api import ToxiproxyApi as _Api
from hubchaos.actions._toxiproxy_api import proxy_path as _path
from hubchaos.actions._toxiproxy_api import toxiproxy_api as _api
from hubchaos.activity.arguments import as_float, as_int
from hubchaos.ledger import history as fault_history
from hubchaos.ledger.store import FaultEntry
from hubchaos.ledger.undo import UndoFailed, undo_delete_toxic, undo_enable_proxy
from hubchaos.ledger.undo import undo as undo_action

__all__ = [
    "add_bandwidth",
    "add_latency",
    "add_limit_data",
    "add_reset_peer",
    "add_slicer",
    "add_slow_close",
    "add_timeout",
    "disable_proxy",
    "enable_proxy",
    "remove_all_toxics",
    "remove_toxic",
    "reset",
    "undo_all",
]

STREAMS = ("upstream", "downstream")


# --------------------------------------------------------------------------- ledger
# Every toxic added and proxy disabled is written to the run's fault ledger
# (hubchaos.ledger) before the request goes out, with its undo; the dead man's
# switch undoes it if this process dies, `undo_all` and the actions below
# settle it.


def _mine(configuration: Configuration, url: str, proxy: str | None = None) -> list[FaultEntry]:
    """This process's Toxiproxy entries for `url` (and `proxy`), oldest first."""
    return [
        entry
        for entry in fault_ledger.mine(configuration)
        if entry.undo.get("action", "").startswith("toxiproxy.")
        and entry.undo.get("url") == url
        and (proxy is None or entry.undo.get("proxy") == proxy)
    ]


def _settle(
    configuration: Configuration, url: str, proxy: str | None = None, toxic: str | None = None
) -> None:
    """Forget entries matching `proxy` and `toxic` (None: any; "*": any toxic; "": the proxy)."""
    for entry in _mine(configuration, url, proxy):
        entry_toxic = str(entry.undo.get("toxic", ""))
        if toxic is None or (toxic == "*" and entry_toxic) or entry_toxic == toxic:
            fault_ledger.settle(entry, configuration)


def ledger(configuration: Configuration = None) -> list[dict[str, str]]:
    """What this process injected through Toxiproxy and has not undone yet, oldest first.

    Each entry is ``{"kind": "toxic", "toxiproxy", "proxy", "toxic"}`` or
    ``{"kind": "disabled_proxy", "toxiproxy", "proxy"}``.
    """
    return [_describe_entry(entry.undo) for entry in _toxiproxy_entries(configuration)]


def _toxiproxy_entries(configuration: Configuration) -> list[FaultEntry]:
    return [
        entry
        for entry in fault_ledger.mine(configuration)
        if entry.undo.get("action", "").startswith("toxiproxy.")
    ]


def _describe_entry(undo: dict[str, Any]) -> dict[str, str]:
    url, proxy, toxic = str(undo["url"]), str(undo["proxy"]), str(undo.get("toxic", ""))
    if toxic:
        return {"kind": "toxic", "toxiproxy": url, "proxy": proxy, "toxic": toxic}
    return {"kind": "disabled_proxy", "toxiproxy": url, "proxy": proxy}


def undo_all(
    timeout_seconds: float = DEFAULT_API_TIMEOUT_S, configuration: Configuration = None
) -> dict[str, Any]:
    """Remove every toxic and re-enable every proxy this run recorded in the ledger, newest first.

    A toxic or proxy already gone counts as undone. Whatever could not be
    undone stays in the ledger (a later call, or the dead man's switch,
    retries it) and the call raises `ActivityFailed` naming it, after trying
    everything else.
    """
    undone: list[dict[str, str]] = []
    failures: list[str] = []
    for entry in reversed(_toxiproxy_entries(configuration)):
        try:
            undo_action(entry.undo)
        except UndoFailed as exc:
            failures.append(f"Toxiproxy at {entry.undo.get('url')}: {exc}")
            continue
        fault_ledger.settle(entry, configuration)
        undone.append(_describe_entry(entry.undo))
    if failures:
        raise ActivityFailed("could not undo: " + "; ".join(failures))
    return {"undone": undone}


def _delete_if_present(api: _Api, path: str) -> None:
    try:
        api.delete(path)
    except ActivityFailed as exc:
        if isinstance(exc.__cause__, NotFound):
            return
        raise


def _enable_if_present(api: _Api, proxy: str) -> None:
    try:
        api.post(_path(proxy), {"enabled": True})
    except ActivityFailed as exc:
        if isinstance(exc.__cause__, NotFound):
            return
        raise


# --------------------------------------------------------------------------- toxics


def _add_toxic(
    kind: str,
    proxy: str,
    attributes: dict[str, int],
    stream: str,
    toxicity: float,
    name: str,
    configuration: Configuration,
) -> dict[str, Any]:
    if stream not in STREAMS:
        raise ActivityFailed(f"{kind} toxic on {proxy!r}: stream must be one of {STREAMS}")
    toxicity = as_float("toxicity", toxicity, 0.0, 1.0)
    api = _api(configuration)
    body = {
        "name": name or f"{kind}_{stream}",
        "type": kind,
        "stream": stream,
        "toxicity": toxicity,
        "attributes": attributes,
    }
    entry = fault_ledger.record(
        f"toxic:{kind}",
        f"{proxy}/{body['name']}",
        undo_delete_toxic(api.url, proxy, str(body["name"])),
        configuration,
    )
    try:
        toxic = api.post(_path(proxy, "toxics"), body)
    except ActivityFailed as exc:
        if isinstance(exc.__cause__, (NotFound, ProxyExists, InvalidToxic)):
            fault_ledger.settle(entry, configuration)  # refused: nothing was applied
        raise
    if not isinstance(toxic, dict) or not toxic.get("name"):
        raise ActivityFailed(f"Toxiproxy at {api.url}: unexpected reply adding {kind}: {toxic}")
    return {"toxiproxy": api.url, "proxy": proxy, "toxic": toxic}


def add_latency(
    proxy: str,
    latency_ms: int,
    jitter_ms: int = 0,
    stream: str = "downstream",
    toxicity: float = 1.0,
    name: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Delay data on `proxy` by `latency_ms` (+/- `jitter_ms`) milliseconds."""
    attributes = {
        "latency": as_int("latency_ms", latency_ms),
        "jitter": as_int("jitter_ms", jitter_ms),
    }
    return _add_toxic("latency", proxy, attributes, stream, toxicity, name, configuration)


def add_bandwidth(
    proxy: str,
    rate_kb_per_second: int,
    stream: str = "downstream",
    toxicity: float = 1.0,
    name: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Limit data on `proxy` to `rate_kb_per_second` kilobytes per second."""
    attributes = {"rate": as_int("rate_kb_per_second", rate_kb_per_second)}
    return _add_toxic("bandwidth", proxy, attributes, stream, toxicity, name, configuration)


def add_slow_close(
    proxy: str,
    delay_ms: int,
    stream: str = "downstream",
    toxicity: float = 1.0,
    name: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Delay closing connections on `proxy` by `delay_ms` milliseconds."""
    attributes = {"delay": as_int("delay_ms", delay_ms)}
    return _add_toxic("slow_close", proxy, attributes, stream, toxicity, name, configuration)


def add_timeout(
    proxy: str,
    timeout_ms: int = 0,
    stream: str = "downstream",
    toxicity: float = 1.0,
    name: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Stop all data on `proxy`; close the connection after `timeout_ms` (0: never)."""
    attributes = {"timeout": as_int("timeout_ms", timeout_ms)}
    return _add_toxic("timeout", proxy, attributes, stream, toxicity, name, configuration)


def add_reset_peer(
    proxy: str,
    timeout_ms: int = 0,
    stream: str = "downstream",
    toxicity: float = 1.0,
    name: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Reset connections on `proxy` (TCP RST) after `timeout_ms` milliseconds (0: at once)."""
    attributes = {"timeout": as_int("timeout_ms", timeout_ms)}
    return _add_toxic("reset_peer", proxy, attributes, stream, toxicity, name, configuration)


def add_slicer(
    proxy: str,
    average_size: int,
    size_variation: int = 0,
    delay_us: int = 0,
    stream: str = "downstream",
    toxicity: float = 1.0,
    name: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Slice data on `proxy` into packets of about `average_size` bytes, `delay_us` apart."""
    attributes = {
        "average_size": as_int("average_size", average_size),
        "size_variation": as_int("size_variation", size_variation),
        "delay": as_int("delay_us", delay_us),
    }
    return _add_toxic("slicer", proxy, attributes, stream, toxicity, name, configuration)


def add_limit_data(
    proxy: str,
    max_bytes: int,
    stream: str = "downstream",
    toxicity: float = 1.0,
    name: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Close connections on `proxy` once `max_bytes` bytes have passed."""
    attributes = {"bytes": as_int("max_bytes", max_bytes)}
    return _add_toxic("limit_data", proxy, attributes, stream, toxicity, name, configuration)


def remove_toxic(
    proxy: str,
    name: str,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Remove the toxic `name` from `proxy`; a toxic that is not there is an error."""
    api = _api(configuration)
    api.delete(_path(proxy, "toxics", name))
    _settle(configuration, api.url, proxy, name)
    return {"toxiproxy": api.url, "proxy": proxy, "removed": [name]}


def remove_all_toxics(
    proxy: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Remove every toxic from `proxy`, or from every proxy when `proxy` is empty."""
    api = _api(configuration)
    proxies = [proxy] if proxy else sorted(_proxies(api))
    removed: list[dict[str, str]] = []
    for each in proxies:
        toxics = api.get(_path(each, "toxics")) or []
        for toxic in toxics:
            toxic_name = str(toxic["name"])
            _delete_if_present(api, _path(each, "toxics", toxic_name))
            removed.append({"proxy": each, "toxic": toxic_name})
        _settle(configuration, api.url, each, "*")
    return {"toxiproxy": api.url, "removed": removed}


def disable_proxy(
    proxy: str,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Disable `proxy`: it drops open connections and refuses new ones until enabled."""
    api = _api(configuration)
    before = api.get(_path(proxy))
    # Only a proxy this run takes down is ours to bring back.
    entry = None
    if isinstance(before, dict) and before.get("enabled", True):
        entry = fault_ledger.record(
            "proxy-disabled", proxy, undo_enable_proxy(api.url, proxy), configuration
        )
    else:
        fault_history.note("proxy-disabled", proxy)
    try:
        after = api.post(_path(proxy), {"enabled": False})
    except ActivityFailed as exc:
        if entry is not None and isinstance(exc.__cause__, NotFound):
            fault_ledger.settle(entry, configuration)
        raise
    return {"toxiproxy": api.url, "proxy": proxy, "enabled": _enabled(after, False)}


def enable_proxy(
    proxy: str,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Enable `proxy` again: it listens and forwards new connections."""
    api = _api(configuration)
    after = api.post(_path(proxy), {"enabled": True})
    _settle(configuration, api.url, proxy, "")
    return {"toxiproxy": api.url, "proxy": proxy, "enabled": _enabled(after, True)}


def reset(
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Enable every proxy and remove every toxic on the Toxiproxy server."""
    api = _api(configuration)
    api.post("/reset")
    _settle(configuration, api.url)
    return {"toxiproxy": api.url, "reset": True}


def _proxies(api: _Api) -> dict[str, Any]:
    proxies = api.get("/proxies")
    if not isinstance(proxies, dict):
        raise ActivityFailed(f"Toxiproxy at {api.url}: unexpected reply listing proxies")
    return proxies


def _enabled(reply: Any, expected: bool) -> bool:
    if isinstance(reply, dict) and "enabled" in reply:
        return bool(reply["enabled"])
    return expected
