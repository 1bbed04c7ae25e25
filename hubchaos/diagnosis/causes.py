"""The diagnosis vocabulary (DESIGN §4) and what one finding says.

Extend only by adding a cause (and documenting it in RUNBOOK.md): reports,
journals and tests compare these strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CAUSES", "RUNBOOK", "Finding"]

RUNBOOK = "environments/monitoring/RUNBOOK.md"

# cause -> (what it means in one line, runbook section)
CAUSES: dict[str, tuple[str, str]] = {
    "db-connection-budget-exhausted": (
        "PostgreSQL refuses logins: every connection slot open to the role is taken",
        "hubdbconnectionbudgetexhausted",
    ),
    "app-pool-misconfigured": (
        "replicas x pool max exceeds what PostgreSQL can take: the pools run it into its wall",
        "app-pool-misconfigured",
    ),
    "app-pool-exhausted": (
        "the app's pools are the bottleneck: requests queue for a connection or get 503",
        "hubdbpoolrequestswaiting",
    ),
    "db-latency": (
        "the database path is slow: every query waits, pages stall",
        "hubhighlatency",
    ),
    "db-unreachable": (
        "PostgreSQL does not answer: logins get no reply, replicas report the database down",
        "hubdatabasedown",
    ),
    "db-connections-reset": (
        "connections to PostgreSQL are reset mid-way: queries and logins fail at random",
        "db-connections-reset",
    ),
    "replica-down": (
        "an app replica stopped answering: the others carry its traffic",
        "replica-down",
    ),
    "query-spike": (
        "the query rate jumped far above its baseline: an abnormal query pattern",
        "hubdbqueryspike",
    ),
    "none": ("no fault symptom in the evidence: the stack absorbed what the run did", ""),
}


@dataclass(frozen=True)
class Finding:
    cause: str
    confidence: float  # 0..1, comparable between findings of one diagnosis
    summary: str
    evidence: list[str] = field(default_factory=list)
    known_after_seconds: float | None = None  # after the first fault; set for the top finding

    def __post_init__(self) -> None:
        if self.cause not in CAUSES:
            raise ValueError(f"unknown cause {self.cause!r}: add it to CAUSES first")

    @property
    def runbook_url(self) -> str:
        anchor = CAUSES[self.cause][1]
        return f"{RUNBOOK}#{anchor}" if anchor else ""

    def as_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "cause": self.cause,
            "confidence": round(self.confidence, 2),
            "summary": self.summary,
            "evidence": list(self.evidence),
            "runbook_url": self.runbook_url,
        }
        if self.known_after_seconds is not None:
            entry["known_after_seconds"] = round(self.known_after_seconds, 1)
        return entry
