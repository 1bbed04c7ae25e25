"""Recovery probe: how long until every replica serves its pages again.

"Recovered" is what a user sees, checked on every replica, not only the one
behind `hub_web`: each of `paths` answers 200 (and, when asked, fast) on every
replica in the same round. Replicas come from the `app_urls` argument, else
configuration key `hubchaos_app_replica_urls` (else env
HUBCHAOS_APP_REPLICA_URLS, which `hubchaos run` exports), else
`hubchaos_app_url`.
"""

import time
from typing import Any

import httpx
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.arguments import as_float, as_positive_float
from hubchaos.activity.blast_radius import ensure_allowed_url
from hubchaos.activity.settings import app_replica_urls
from hubchaos.polling import poll_until

__all__ = ["wait_until_serving"]

POLL_INTERVAL_S = 0.5


def wait_until_serving(
    paths: list | None = None,
    timeout_seconds: float = 30.0,
    max_response_seconds: float = 0.0,
    request_timeout: float = 5.0,
    app_urls: list | str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Wait until every path answers 200 on every replica, in one round of checks.

    `paths` default to /readyz and one student dashboard. With
    `max_response_seconds` > 0 a 200 slower than that does not count yet.
    Returns ``{"ok", "seconds" (until the first all-good round, or the whole
    wait), "rounds", "checks": [{"url", "status", "seconds", "error"}] of the
    last round}``; it never fails just because the app is down: that is
    what it measures.
    """
    wanted = [str(path) for path in (paths or ["/readyz", "/students/17/dashboard"])]
    wait_s = as_float("timeout_seconds", timeout_seconds)
    slow_s = as_float("max_response_seconds", max_response_seconds)
    request_s = as_positive_float("request_timeout", request_timeout, 60.0)
    urls = [
        base + (path if path.startswith("/") else "/" + path)
        for base in _replica_urls(app_urls, configuration)
        for path in wanted
    ]
    for url in urls:
        ensure_allowed_url(url, configuration)

    def serving(checks: list[dict[str, Any]]) -> bool:
        return all(
            check["status"] == 200 and (not slow_s or check["seconds"] <= slow_s)
            for check in checks
        )

    with httpx.Client(timeout=request_s, follow_redirects=False) as client:
        polled = poll_until(
            lambda _left: [_check(client, url) for url in urls],
            wait_s,
            POLL_INTERVAL_S,
            done=serving,
        )
    return {
        "ok": polled.held,
        "seconds": round(polled.seconds if polled.held else wait_s, 3),
        "rounds": polled.looks,
        "checks": polled.value,
    }


def _check(client: httpx.Client, url: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        status: int | None = client.get(url).status_code
        error = None
    except httpx.HTTPError as exc:
        status, error = None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return {
        "url": url,
        "status": status,
        "seconds": round(time.perf_counter() - started, 3),
        "error": error,
    }


def _replica_urls(app_urls: list[str] | str | None, configuration: Configuration) -> list[str]:
    urls = app_replica_urls(app_urls, configuration)
    if not urls:
        raise ActivityFailed("recovery probe: no app URL to check")
    return urls
