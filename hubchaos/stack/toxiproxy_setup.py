"""Creating the stack's fault proxies through the Toxiproxy HTTP API.

Works the same against the embedded server and a real toxiproxy-server: only
the documented 2.x API is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from hubchaos.errors import StackError

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ProxySpec:
    name: str
    listen: str
    upstream: str

    def as_dict(self) -> dict[str, str]:
        return {"listen": self.listen, "upstream": self.upstream}


def ensure_proxies(api_url: str, specs: list[ProxySpec], log_file: str | None = None) -> None:
    """Create each proxy, replacing one of the same name (enabled, no toxics)."""
    try:
        with httpx.Client(base_url=api_url, timeout=TIMEOUT_S) as client:
            for spec in specs:
                existing = client.get(f"/proxies/{spec.name}")
                if existing.status_code == 200:
                    client.delete(f"/proxies/{spec.name}").raise_for_status()
                created = client.post(
                    "/proxies",
                    json={
                        "name": spec.name,
                        "listen": spec.listen,
                        "upstream": spec.upstream,
                        "enabled": True,
                    },
                )
                if created.status_code != 201:
                    raise StackError(
                        "toxiproxy",
                        f"creating proxy {spec.name} ({spec.listen} -> {spec.upstream}) answered "
                        f"HTTP {created.status_code}: {created.text.strip()[:200]}",
                        log_file,
                    )
    except httpx.HTTPError as exc:
        raise StackError("toxiproxy", f"API {api_url} failed: {exc}", log_file) from exc


def missing_proxies(api_url: str, specs: list[ProxySpec]) -> list[str]:
    """Names of proxies that are absent or point elsewhere (for `status`)."""
    try:
        response = httpx.get(f"{api_url}/proxies", timeout=TIMEOUT_S)
        response.raise_for_status()
        proxies = response.json()
    except (httpx.HTTPError, ValueError):
        return [spec.name for spec in specs]
    missing = []
    for spec in specs:
        found = proxies.get(spec.name) if isinstance(proxies, dict) else None
        if not isinstance(found, dict) or found.get("upstream") != spec.upstream:
            missing.append(spec.name)
    return missing
