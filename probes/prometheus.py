"""PromQL probe: what Prometheus says right now.

Prometheus is found through the configuration key `hubchaos_prometheus_url`
(else HUBCHAOS_PROMETHEUS_URL, else http://127.0.0.1:19090). Every request has
an explicit timeout; an unreachable Prometheus or a query it rejects is an
`ActivityFailed` naming the URL and the cause.
"""

import math
from typing import Any

import httpx
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.settings import setting

__all__ = ["promql_instant"]

DEFAULT_TIMEOUT_S = 10.0


def promql_instant(
    query: str,
    allow_empty: bool = False,
    timeout_seconds: float = DEFAULT_TIMEOUT_S,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Evaluate `query` now and return its value(s).

    Returns ``{"query", "result_type", "count", "value", "min", "max", "sum",
    "series": [{"labels": {...}, "value": float | null}]}`` (null for NaN or an
    infinity, which JSON cannot carry). `value` is the single
    result, or the largest when there are several (what a tolerance usually
    bounds); `min`/`max`/`sum` summarise every series. An empty result means
    nothing could be measured and fails the probe, unless `allow_empty` is
    true (then the numbers are null and `count` is 0); write ``... or vector(0)``
    in the query when "no series" should read as zero.
    """
    base = setting("hubchaos_prometheus_url", configuration).rstrip("/")
    data = get_json(
        f"{base}/api/v1/query",
        timeout_seconds,
        f"Prometheus at {base}",
        params={"query": query},
    )
    if not isinstance(data, dict) or data.get("status") != "success":
        error = data.get("error") if isinstance(data, dict) else data
        raise ActivityFailed(f"Prometheus at {base} rejected query {query!r}: {error}")
    result_type = str(data["data"]["resultType"])
    series = _series(result_type, data["data"]["result"])
    measured: dict[str, Any] = {
        "query": query,
        "result_type": result_type,
        "count": len(series),
        "series": series,
    }
    values = [each["value"] for each in series if each["value"] is not None]
    if not values:
        if not allow_empty:
            raise ActivityFailed(f"Prometheus at {base}: query {query!r} returned no data")
        measured.update(value=None, min=None, max=None, sum=None)
        return measured
    measured.update(
        value=values[0] if len(values) == 1 else max(values),
        min=min(values),
        max=max(values),
        sum=sum(values),
    )
    return measured


def _series(result_type: str, result: Any) -> list[dict[str, Any]]:
    if result_type in ("scalar", "string"):
        return [{"labels": {}, "value": _number(result[1])}]
    if result_type == "vector":
        return [
            {"labels": dict(each.get("metric", {})), "value": _number(each["value"][1])}
            for each in result
        ]
    # A range vector from an instant query (e.g. `metric[1m]`): its latest point.
    return [
        {"labels": dict(each.get("metric", {})), "value": _number(each["values"][-1][1])}
        for each in result
        if each.get("values")
    ]


def _number(text: Any) -> float | None:
    """A sample value as a float; NaN and infinities (not JSON) become None."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def get_json(
    url: str, timeout_seconds: float, target: str, params: dict[str, Any] | None = None
) -> Any:
    """GET `url` and decode its JSON, or raise ActivityFailed naming `target` and the cause.

    Shared by the probes that read the monitoring stack's HTTP APIs. A 4xx/5xx
    reply with a JSON body is returned as is: Prometheus explains its errors
    there.
    """
    try:
        response = httpx.get(url, params=params, timeout=timeout_seconds)
    except httpx.TimeoutException as exc:
        raise ActivityFailed(f"{target} did not answer within {timeout_seconds:g}s") from exc
    except httpx.HTTPError as exc:
        raise ActivityFailed(f"{target} is unreachable: {exc}") from exc
    try:
        return response.json()
    except ValueError as exc:
        raise ActivityFailed(
            f"{target}: HTTP {response.status_code} with a reply that is not JSON"
        ) from exc
