"""`pytest EXPERIMENT` through the hubchaos plugin against the session's real stack.

pytest runs in a subprocess from the repository root, as CI would, so the
project's own pytest settings apply (strict markers, warnings as errors,
timeouts). The plugin switches the stack to --hubchaos-profile and back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from tests.experiments.conftest import REPO, HubStack
from tests.experiments.junit_shape import check_junit

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXPERIMENT = REPO / "tests" / "plugin" / "data" / "pool-budget.yaml"
NODE_NAME = "pool-budget"
BUDGET_PROBE = "postgres-connections-stayed-inside-the-budget"
BUDGET_PEAK = 56  # the probe's tolerance: max_connections 60 - 3 superuser slots - 1


def _pytest(hub_stack: HubStack, junit: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(EXPERIMENT.relative_to(REPO)),
         "-p", "no:cacheprovider", "--hubchaos-state-dir", str(hub_stack.state_dir),
         "--hubchaos-no-start", f"--junitxml={junit}", *options],
        cwd=REPO,
        env={**os.environ, "HUBCHAOS_PORT_OFFSET": str(hub_stack.offset)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )  # fmt: skip


def _wait_for_quiet_database(prometheus_url: str, seconds: float = 60) -> None:
    """The experiment's baseline looks back a few seconds: let earlier floods leave the window.

    Its tolerance is the budget (at most 56 connections), not an empty database: the
    replicas' pools keep the idle connections earlier experiments' traffic grew them to
    (now that hub_web balances over both replicas, up to the role's limit together).
    """
    query = "max_over_time(sum(pg_stat_activity_count)[6s:1s])"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        reply = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": query}, timeout=5)
        result = reply.json()["data"]["result"]
        if result and float(result[0]["value"][1]) <= BUDGET_PEAK:
            return
        time.sleep(1)
    raise AssertionError(f"PostgreSQL still busy after {seconds}s")


def _properties(case: ET.Element) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for prop in case.iter("property"):
        found.setdefault(prop.get("name", ""), []).append(prop.get("value", ""))
    return found


def test_an_experiment_passes_on_fixed_and_fails_on_incident(
    hub_stack: HubStack, tmp_path: Path
) -> None:
    hub_stack.use_profile("fixed")
    state = hub_stack.stack.state()
    assert state is not None
    _wait_for_quiet_database(state.prometheus_url)

    passed = _pytest(hub_stack, tmp_path / "fixed.xml", "--hubchaos-profile", "fixed")
    assert passed.returncode == 0, passed.stdout[-3000:]
    (case,) = check_junit(tmp_path / "fixed.xml")
    assert case.get("name") == NODE_NAME
    assert [child.tag for child in case] == ["properties"]
    props = _properties(case)
    assert props["verdict"] == ["passed"] and props["exit_code"] == ["0"]
    assert Path(props["journal"][0]).is_file()

    _wait_for_quiet_database(state.prometheus_url)
    reports = tmp_path / "reports"
    failed = _pytest(
        hub_stack, tmp_path / "incident.xml", "--hubchaos-profile", "incident",
        "--hubchaos-report-dir", str(reports),
    )  # fmt: skip
    assert failed.returncode == pytest.ExitCode.TESTS_FAILED, failed.stdout[-3000:]
    assert f"FAILED {EXPERIMENT.relative_to(REPO)}::{NODE_NAME}" in failed.stdout
    assert "switching the stack to profile incident" in failed.stdout
    (case,) = check_junit(tmp_path / "incident.xml")
    failure = case.find("failure")
    assert failure is not None, ET.tostring(case, encoding="unicode")
    text = failure.text or ""
    assert f"deviated: probe '{BUDGET_PROBE}' (after): value " in text
    value = float(text.split(f"probe '{BUDGET_PROBE}' (after): value ")[1].split(";")[0])
    assert value >= 57  # PostgreSQL reached its wall: only superusers get in
    props = _properties(case)
    assert props["verdict"] == ["deviated"] and props["exit_code"] == ["1"]
    assert any(path.endswith(".html") for path in props["report"])
    assert all(Path(path).is_file() for path in props["report"])

    # the plugin put the stack back the way it found it
    after = hub_stack.stack.state()
    assert after is not None and after.profile == "fixed"
