"""How the report writes values: seconds, clock times, tolerances, measured values, links."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = [
    "NBSP",
    "clock",
    "compact",
    "describe_tolerance",
    "measured",
    "not_measured_yet",
    "number",
    "runbook_href",
    "seconds",
]

VALUE_CHARS = 160
# Runbook annotations are usually repository-relative paths; a base URL (e.g. the
# repository's web address) set here turns them into absolute links.
RUNBOOK_BASE_ENV = "HUBCHAOS_RUNBOOK_BASE_URL"
_JSONPATH_KEY = re.compile(r"^\$\.([A-Za-z_][A-Za-z0-9_]*)$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


NBSP = "\u00a0"  # keeps a number and its unit on one line


def seconds(value: float | None, missing: str = "n/a", digits: int = 1) -> str:
    return missing if value is None else f"{value:.{digits}f}{NBSP}s"


def clock(when: datetime | None) -> str:
    return when.strftime("%H:%M:%S.") + f"{when.microsecond // 100000}" if when else "?"


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    # three significant digits, but never scientific notation
    text = f"{value:.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.3g}"
    return f"{text}{unit}"


def compact(value: Any, limit: int = VALUE_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _judged_key(tolerance: Any) -> str | None:
    """The key of the probe's output the tolerance looks at, if it names one."""
    if not isinstance(tolerance, Mapping):
        return None
    if tolerance.get("target"):
        return str(tolerance["target"])
    match = _JSONPATH_KEY.match(str(tolerance.get("path", "")))
    return match.group(1) if tolerance.get("type") == "jsonpath" and match else None


def measured(tolerance: Any, output: Any) -> str:
    """What the tolerance judged: `key = value` when it looks at one key of the output."""
    key = _judged_key(tolerance)
    if key and isinstance(output, Mapping) and key in output:
        return f"{key} = {compact(output[key], 60)}"
    return compact(output)


def not_measured_yet(output: Any) -> bool:
    """A window probe before any fault: it has no window yet, so no result to show."""
    return isinstance(output, Mapping) and output.get("measured") is False and "note" in output


def describe_tolerance(tolerance: Any) -> str:
    if isinstance(tolerance, Mapping):
        kind = tolerance.get("type")
        key = _judged_key(tolerance) or "value"
        if kind == "range":
            low, high = [*(tolerance.get("range") or []), None, None][:2]
            return f"{low} ≤ {key} ≤ {high}"
        if kind == "jsonpath":
            if "expect" in tolerance:
                return f"{key} = {compact(tolerance['expect'], 40)}"
            return f"{tolerance.get('path')} matches"
        if kind == "regex":
            return f"{key} matches /{tolerance.get('pattern')}/"
        if kind == "probe":
            provider = tolerance.get("provider") or {}
            return f"accepted by {provider.get('func') or tolerance.get('name')}"
    if isinstance(tolerance, list) and len(tolerance) == 2:
        return f"within {compact(tolerance, 40)}"
    return f"= {compact(tolerance, 40)}"


def runbook_href(url: str) -> str | None:
    """A link for a runbook annotation: http(s) as is, a relative path under the base
    URL from HUBCHAOS_RUNBOOK_BASE_URL (else as written); any other scheme: no link."""
    if url.startswith(("http://", "https://")):
        return url
    if _SCHEME.match(url) or url.startswith("//"):
        return None
    base = os.environ.get(RUNBOOK_BASE_ENV, "")
    if base and not base.endswith("/"):
        base += "/"
    return base + url.lstrip("/") if base else url
