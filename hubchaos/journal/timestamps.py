"""Timestamps as journals write them: chaoslib's naive UTC and the controls' ISO with offset."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["parse_time"]


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime, or None for anything that is not an ISO timestamp."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # chaoslib writes naive UTC for activities
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
