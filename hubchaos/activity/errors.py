"""Foreign errors become `ActivityFailed` naming what was targeted and why."""

from chaoslib.exceptions import ActivityFailed

__all__ = ["failed"]


def failed(target: str, cause: object) -> ActivityFailed:
    """An ActivityFailed naming what was targeted and why it failed."""
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return ActivityFailed(f"{target}: {text}")
