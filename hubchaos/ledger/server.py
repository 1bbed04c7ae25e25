"""The Toxiproxy server's own state: what is on it, what differs from a baseline, who owns it.

"Clean" is judged against the server, never against a list kept by the
runner: a snapshot maps each proxy to its `enabled` flag and its toxics (with
attributes). The default baseline is the one `hubchaos up` creates: every
proxy enabled, no toxic. A fault on the server is *owned* when an entry of the
ledger will undo it; `recover` removes the ones nobody owns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hubchaos.ledger.http import HttpError, request
from hubchaos.ledger.store import FaultEntry
from hubchaos.ledger.undo import UndoFailed, undo, undo_delete_toxic, undo_enable_proxy

__all__ = ["ServerFault", "Snapshot", "differences", "owned_by", "remove", "snapshot"]

HTTP_TIMEOUT_S = 5.0

# proxy name -> {"enabled": bool, "toxics": {toxic name: toxic as the server shows it}}
Snapshot = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class ServerFault:
    url: str
    proxy: str
    toxic: str = ""  # empty: the proxy is disabled
    detail: str = ""

    def describe(self) -> str:
        if self.toxic:
            return f"toxic {self.toxic} on {self.proxy} ({self.detail})"
        return f"proxy {self.proxy} disabled"

    def undo_action(self) -> dict[str, Any]:
        if self.toxic:
            return undo_delete_toxic(self.url, self.proxy, self.toxic)
        return undo_enable_proxy(self.url, self.proxy)


def snapshot(url: str) -> Snapshot:
    """The server's proxies now; raises UndoFailed when the API cannot be read."""
    try:
        status, body = request("GET", f"{url.rstrip('/')}/proxies", timeout=HTTP_TIMEOUT_S)
        if status != 200:
            raise HttpError(f"HTTP {status}")
        proxies = json.loads(body)
    except (HttpError, ValueError) as exc:
        raise UndoFailed(f"Toxiproxy at {url}: cannot list proxies: {exc}") from exc
    return {
        str(name): {
            "enabled": bool(proxy.get("enabled", True)),
            "toxics": {str(t["name"]): t for t in proxy.get("toxics") or []},
        }
        for name, proxy in proxies.items()
    }


def _toxic_detail(toxic: dict[str, Any]) -> str:
    attributes = ", ".join(f"{k}={v}" for k, v in sorted((toxic.get("attributes") or {}).items()))
    return f"{toxic.get('type')} {toxic.get('stream')}, toxicity {toxic.get('toxicity')}" + (
        f": {attributes}" if attributes else ""
    )


def differences(url: str, now: Snapshot, baseline: Snapshot | None = None) -> list[ServerFault]:
    """Toxics and disabled proxies in `now` that `baseline` (default: none at all) lacks."""
    found = []
    for proxy, state in sorted(now.items()):
        before = (baseline or {}).get(proxy, {"enabled": True, "toxics": {}})
        if before["enabled"] and not state["enabled"]:
            found.append(ServerFault(url, proxy))
        for name, toxic in sorted(state["toxics"].items()):
            if before["toxics"].get(name) != toxic:
                found.append(ServerFault(url, proxy, name, _toxic_detail(toxic)))
    return found


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def owned_by(fault: ServerFault, entries: list[FaultEntry]) -> FaultEntry | None:
    """The ledger entry that will undo `fault`, if any."""
    wanted = fault.undo_action()
    for entry in entries:
        action = entry.undo
        if (
            action.get("action") == wanted["action"]
            and _same_url(action.get("url", ""), fault.url)
            and action.get("proxy") == fault.proxy
            and action.get("toxic", "") == fault.toxic
        ):
            return entry
    return None


def remove(faults: list[ServerFault]) -> tuple[list[ServerFault], list[str]]:
    """Remove each fault from the server; returns (removed, errors)."""
    removed, errors = [], []
    for fault in faults:
        try:
            undo(fault.undo_action())
        except UndoFailed as exc:
            errors.append(f"{fault.describe()}: {exc}")
        else:
            removed.append(fault)
    return removed, errors
