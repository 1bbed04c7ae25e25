"""Keep secrets out of everything hubchaos writes for people (reports, summaries)."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["redact", "redact_text"]

_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+@", re.IGNORECASE)
_KEY_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)
_SECRET_KEYS = ("password", "secret", "token", "api_key", "apikey")


def redact_text(text: str) -> str:
    text = _URL_PASSWORD.sub(r"\g<head>***@", text)
    return _KEY_PASSWORD.sub(r"\g<head>***", text)


def redact(value: Any) -> Any:
    """A copy of `value` with passwords in DSNs, URLs and secret-named keys masked."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            key: "***" if any(s in str(key).lower() for s in _SECRET_KEYS) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value
