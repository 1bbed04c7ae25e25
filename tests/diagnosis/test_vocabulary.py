"""The causes are the contract's (DESIGN §4) and each runbook link lands on a section."""

from __future__ import annotations

import re
from pathlib import Path

from hubchaos.diagnosis import CAUSES, Finding

REPO = Path(__file__).resolve().parents[2]
CONTRACT = {
    "db-connection-budget-exhausted",
    "app-pool-misconfigured",
    "app-pool-exhausted",
    "db-latency",
    "db-unreachable",
    "db-connections-reset",
    "replica-down",
    "query-spike",
    "none",
}


def anchors(markdown: str) -> set[str]:
    headings = re.findall(r"^#{1,6} (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_the_vocabulary_is_exactly_the_contract() -> None:
    assert set(CAUSES) == CONTRACT


def test_every_runbook_link_lands_on_a_runbook_section() -> None:
    runbook = anchors((REPO / "environments/monitoring/RUNBOOK.md").read_text())
    for cause in CAUSES:
        url = Finding(cause, 0.5, "x").runbook_url
        if cause == "none":
            assert url == ""
            continue
        assert url.startswith("environments/monitoring/RUNBOOK.md#")
        assert url.split("#", 1)[1] in runbook, cause
