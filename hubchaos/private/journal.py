"""Run journals on disk: 0600, with passwords redacted as they are in reports.

A journal carries the experiment's resolved configuration and every
activity's arguments and output, so DSNs with passwords reach it; the
in-memory journal the verdict and the report use is left whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hubchaos.private.files import write_private
from hubchaos.private.redact import redact

__all__ = ["write_journal"]


def write_journal(path: Path, journal: dict[str, Any]) -> Path:
    """Write `journal` to `path` (0600, passwords masked)."""
    return write_private(path, json.dumps(redact(journal), indent=2, default=str))
