"""`--config FILE`: proxies to create at startup, in upstream's JSON format, plus toxics.

    [{"name": "hub_db", "listen": "127.0.0.1:15433", "upstream": "127.0.0.1:15432",
      "enabled": true,
      "toxics": [{"type": "latency", "stream": "downstream", "attributes": {"latency": 50}}]}]

Upstream Toxiproxy ignores `toxics` here; hubchaos applies them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hubchaos.proxy.errors import StartupError


def load(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StartupError(f"can't read proxy config {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise StartupError(f"proxy config {path} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StartupError(
            f"proxy config {path} is not valid JSON: {exc.msg} at line {exc.lineno} "
            f"column {exc.colno}"
        ) from None
    if not isinstance(data, list):
        raise StartupError(f"proxy config {path} must be a JSON list of proxies")
    return data
