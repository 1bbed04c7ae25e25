"""What `hubchaos status` reports, whichever driver runs the stack.

healthy  the part is ours and alive, and its health check passes
running  the part is alive but the check fails (the detail says why)
down     nothing alive (or, for a proxy, not configured)
"""

from __future__ import annotations

from dataclasses import dataclass

from hubchaos.stack.state import StackState

__all__ = ["PartStatus", "StackStatus"]


@dataclass(frozen=True)
class PartStatus:
    name: str
    state: str  # healthy | running | down
    endpoint: str
    detail: str = ""
    pid: int | None = None


@dataclass(frozen=True)
class StackStatus:
    parts: list[PartStatus]
    state: StackState | None

    @property
    def healthy(self) -> bool:
        return bool(self.parts) and all(part.state == "healthy" for part in self.parts)
