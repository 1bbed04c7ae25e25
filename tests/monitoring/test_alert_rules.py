"""The alert rules keep their contract: names, labels, annotations, runbook
anchors, short timings, and unit tests on both sides of every threshold."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from hubchaos.stack.monitoring import monitoring_dir, rules_files

CONTRACT_ALERTS = {
    "HubDBPoolSaturated",
    "HubDBPoolRequestsWaiting",
    "HubDBConnectionsNearLimit",
    "HubDBQuerySpike",
    "HubDatabaseDown",
    "HubDBConnectionBudgetExhausted",
    "HubHighLatency",
    "HubHighErrorRate",
}
MONITORING_DIR = monitoring_dir()
RUNBOOK = MONITORING_DIR / "RUNBOOK.md"
RUNBOOK_PREFIX = "environments/monitoring/RUNBOOK.md#"
# An experiment must see the alert within 30 s; `for` plus rate windows must leave room.
MAX_FOR_SECONDS = 10


def alert_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for path in rules_files():
        for group in yaml.safe_load(Path(path).read_text())["groups"]:
            rules.extend(rule for rule in group["rules"] if "alert" in rule)
    return rules


def seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+)(ms|s|m|h)", duration)
    assert "".join(n + u for n, u in parts) == duration, f"unsupported duration {duration}"
    return sum(int(n) * units[u] for n, u in parts)


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def test_the_rules_define_exactly_the_contract_alerts() -> None:
    assert {rule["alert"] for rule in alert_rules()} == CONTRACT_ALERTS


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_each_alert_has_severity_annotations_and_a_short_for(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in {"warning", "critical"}
    annotations = rule["annotations"]
    assert annotations["summary"].strip()
    assert annotations["description"].strip()
    assert annotations["runbook_url"] == RUNBOOK_PREFIX + rule["alert"].lower()
    assert 0 < seconds(rule["for"]) <= MAX_FOR_SECONDS


def test_every_runbook_link_lands_on_a_runbook_section() -> None:
    headings = re.findall(r"^#{1,6} (.+)$", RUNBOOK.read_text(), flags=re.MULTILINE)
    anchors = {github_anchor(heading) for heading in headings}
    links = {
        rule["annotations"]["runbook_url"].removeprefix(RUNBOOK_PREFIX) for rule in alert_rules()
    }
    assert links <= anchors, f"runbook sections missing for {sorted(links - anchors)}"


def test_the_readme_documents_every_alert() -> None:
    readme = (MONITORING_DIR / "README.md").read_text()
    missing = [name for name in CONTRACT_ALERTS if f"`{name}`" not in readme]
    assert not missing, f"README.md does not describe {missing}"


def test_every_alert_has_unit_tests_that_fire_and_that_stay_quiet() -> None:
    firing: dict[str, int] = defaultdict(int)
    quiet: dict[str, int] = defaultdict(int)
    for path in sorted((MONITORING_DIR / "tests").glob("*.test.yml")):
        for group in yaml.safe_load(path.read_text())["tests"]:
            for case in group.get("alert_rule_test", []):
                bucket = firing if case.get("exp_alerts") else quiet
                bucket[case["alertname"]] += 1
    assert set(firing) == CONTRACT_ALERTS, f"no firing case for {CONTRACT_ALERTS - set(firing)}"
    assert set(quiet) == CONTRACT_ALERTS, f"no quiet case for {CONTRACT_ALERTS - set(quiet)}"
