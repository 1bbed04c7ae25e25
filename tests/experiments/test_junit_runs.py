"""JUnit XML and plain output of real `hubchaos run`s against the session's stack."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.experiments.conftest import REPO, HubStack
from tests.experiments.junit_shape import check_junit

pytestmark = [pytest.mark.stack, pytest.mark.slow]

LIVE_DATA = REPO / "tests" / "live" / "data"
WATCH_ME = LIVE_DATA / "watch-me.yaml"
BROKEN = LIVE_DATA / "broken-injection.yaml"
STATUS_LINE = re.compile(
    r"\[ *\d+\.\d+s\] stack: pool \d+/40 used, \d+ waiting \| db connections \d+/60 \| "
    r"p95 (-|\d+ ms|\d+\.\d+ s) \| errors (-|\d+\.\d%) \| (-|\d+(\.\d)?) req/s \| alerts: "
)


def test_plain_run_of_a_pass_and_a_broken_injection(hub_stack: HubStack, tmp_path: Path) -> None:
    """Through pipes (as in CI): plain lines with status lines, exit 4, one testcase each."""
    hub_stack.use_profile("fixed")
    junit = tmp_path / "junit.xml"
    result = subprocess.run(
        [sys.executable, "-m", "hubchaos", "run", str(WATCH_ME), str(BROKEN),
         "--state-dir", str(hub_stack.state_dir), "--no-start", "--junit", str(junit)],
        cwd=tmp_path,
        env={**os.environ, "HUBCHAOS_PORT_OFFSET": str(hub_stack.offset)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 4, result.stderr[-3000:]
    assert "\x1b" not in result.stderr  # no terminal control codes in a CI log
    assert "] experiment: Watch me: a small flood held for a few seconds" in result.stderr
    assert STATUS_LINE.search(result.stderr), result.stderr[-3000:]
    assert "slow-a-missing-link: failed" in result.stderr

    passed, broken = check_junit(junit)
    assert passed.get("name") == "Watch me: a small flood held for a few seconds"
    assert passed.get("classname") == "hubchaos.watch-me"
    assert float(passed.get("time", 0)) >= 7  # the method sleeps 7 s
    assert list(passed) == []
    (error,) = list(broken)
    assert error.tag == "error" and error.get("type") == "error"
    assert "slow-a-missing-link" in (error.get("message") or "")
    *details, where = (error.text or "").splitlines()
    assert any("no_such_proxy" in line for line in details), details
    journal = Path(where.removeprefix("journal: "))
    assert journal.is_file() and journal.name == "broken-injection.journal.json"


@pytest.mark.parametrize("profile", ["fixed", "incident"])
def test_junit_of_the_incident_replay_has_the_common_shape(
    hub_stack: HubStack, profile: str
) -> None:
    outcome = hub_stack.outcome("incident-replay.yaml", profile)
    (case,) = check_junit(outcome.out_dir / "junit.xml")
    expected = {0: "passed", 1: "failure"}.get(outcome.code, "error")
    outcomes = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
    assert (outcomes or ["passed"]) == [expected], outcome.explain()
    if expected == "failure":
        text = case.find("failure").text or ""  # type: ignore[union-attr]
        deviated = {
            probe["activity"]["name"]
            for probe in outcome.journal["steady_states"]["after"]["probes"]
            if probe.get("tolerance_met") is False
        }
        assert deviated
        for name in deviated:  # every deviated probe, with its value and tolerance
            assert re.search(rf"probe '{name}' \(after\): value \S+; tolerance ", text), text
