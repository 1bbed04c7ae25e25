"""HTTP probes: the service-level view of the app (latency, errors, fast 503s)
and a single status check."""

import time

import httpx
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.addresses import url_host_port
from hubchaos.activity.arguments import as_int, as_positive_float
from hubchaos.activity.errors import failed
from hubchaos.activity.settings import app_url
from hubchaos.traffic.http_load import http_load, load_plan
from hubchaos.traffic.loop import run_load

__all__ = ["http_get_status", "http_slo"]

MAX_ATTEMPTS = 10
RETRY_PAUSE_S = 1.0


def http_slo(
    url: str = "",
    routes: list | None = None,
    requests: int = 200,
    concurrency: int = 10,
    timeout: float = 5.0,
    fast_503_ms: float = 1000.0,
    max_seconds: float = 60.0,
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
) -> dict:
    """Measure the app's service level over `requests` requests.

    `routes` and `url` work as for the http_spike action (default: dashboard
    and chat reads against configuration `hubchaos_app_url`). Sends at most
    `requests` requests, `concurrency` at a time, each with `timeout`
    seconds, and stops after `max_seconds` anyway. Returns p95_ms, p99_ms,
    error_rate and fast_503_share (503s within `fast_503_ms` carrying
    Retry-After) at the top level, plus status counts, errors by kind and a
    per-route breakdown.
    """
    bound = as_positive_float("max_seconds", max_seconds)
    plan, target = load_plan(
        url, routes, concurrency, bound, requests, timeout, fast_503_ms, configuration
    )
    try:
        # a measurement, not a fault: bounded by its own deadline, not a registered flood
        result = run_load(
            plan.duration_seconds + plan.timeout + 5.0, lambda stop: http_load(plan, target, stop)
        )
    except Exception as exc:
        raise failed(f"HTTP SLO probe of {target}", exc) from exc
    latency = result["latency_ms"]
    return {
        "p50_ms": latency["p50"],
        "p95_ms": latency["p95"],
        "p99_ms": latency["p99"],
        "error_rate": result["error_rate"],
        "fast_503_share": result["fast_503_share"],
        **result,
        "kind": "http_slo",
    }


def http_get_status(
    url: str = "/healthz",
    timeout: float = 5.0,
    attempts: int = 1,
    configuration: Configuration | None = None,
    secrets: Secrets | None = None,
) -> dict:
    """GET `url` and report the status code (None when nothing answered).

    A `url` starting with "/" is relative to configuration `hubchaos_app_url`.
    With `attempts` above 1 the GET is sent again, a second later, while
    nothing answers (connection refused or cut before a response): on
    Kubernetes the probe reaches the hub through a port-forward, which kubectl
    ends whenever chaos resets one connection inside the pod, and one GET can
    fall in the moment before it is restarted. An HTTP answer, error status
    included, is never retried. Returns status, ok (2xx), retry_after, seconds,
    attempts and, when nothing answered, error.
    """
    full = app_url("", configuration).rstrip("/") + url if url.startswith("/") else url
    url_host_port(full)  # a malformed URL is the experiment's mistake: fail clearly
    limit = as_positive_float("timeout", timeout, 300)
    tries = as_int("attempts", attempts, minimum=1, maximum=MAX_ATTEMPTS)
    started = time.perf_counter()
    attempt, error = 0, ""
    while attempt < tries:
        if attempt:
            time.sleep(RETRY_PAUSE_S)
        attempt += 1
        try:
            with httpx.Client(timeout=limit, follow_redirects=False) as client:
                response = client.get(full)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            continue
        return {
            "url": full,
            "status": response.status_code,
            "ok": response.is_success,
            "retry_after": response.headers.get("retry-after"),
            "seconds": round(time.perf_counter() - started, 3),
            "attempts": attempt,
            "error": None,
        }
    return {
        "url": full,
        "status": None,
        "ok": False,
        "retry_after": None,
        "seconds": round(time.perf_counter() - started, 3),
        "attempts": attempt,
        "error": error,
    }
