"""A drill's precondition, judged at the moment its first fault was injected.

Some alerts compare the present with the recent past: HubDBQuerySpike fires
when the query rate is three times its average over the previous minutes. A
drill can only prove such an alert if the stack was quiet enough when the
drill began; right after another load test its peak is not abnormal. This
probe reads a PromQL expression (via Prometheus) as it was when the first
fault of this run (hubchaos.ledger.history) was injected. Before any fault there is
nothing to judge yet: `ok` is true and `value` is today's, for information.
"""

import math
import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos.activity.arguments import as_positive_float
from hubchaos.activity.settings import setting
from hubchaos.ledger.history import first_fault
from hubchaos.probes.prometheus import get_json

__all__ = ["value_at_first_fault"]


def value_at_first_fault(
    query: str,
    max_value: float,
    timeout_seconds: float = 10.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Whether `query` was at most `max_value` when this run's first fault was injected.

    Returns ``{"query", "value", "max_value", "at_fault" (bool: measured at
    the fault rather than now), "ok"}``. The query must return one number
    (write ``... or vector(0)`` where no series means zero).
    """
    limit = float(max_value)
    fault = first_fault()
    at = time.time() if fault is None else fault.started
    value = _instant(
        query, at, as_positive_float("timeout_seconds", timeout_seconds, 60.0), configuration
    )
    return {
        "query": query,
        "value": round(value, 6),
        "max_value": limit,
        "at_fault": fault is not None,
        "ok": fault is None or value <= limit,
    }


def _instant(query: str, at: float, timeout_s: float, configuration: Configuration) -> float:
    base = setting("hubchaos_prometheus_url", configuration).rstrip("/")
    data = get_json(
        f"{base}/api/v1/query",
        timeout_s,
        f"Prometheus at {base}",
        params={"query": query, "time": f"{at:.3f}"},
    )
    if not isinstance(data, dict) or data.get("status") != "success":
        error = data.get("error") if isinstance(data, dict) else data
        raise ActivityFailed(f"Prometheus at {base} rejected query {query!r}: {error}")
    result = data["data"]["result"]
    if data["data"]["resultType"] == "scalar":
        values = [float(result[1])]
    else:
        values = [float(series["value"][1]) for series in result]
    if len(values) != 1 or not math.isfinite(values[0]):
        raise ActivityFailed(
            f"Prometheus at {base}: query {query!r} gave {len(values)} values, not one number"
        )
    return values[0]
