"""One real game day on the real stack: a briefing, the incident replay on `fixed`, and
questions answered through stdin; the combined report has the observations, the verdict
and the score."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from hubchaos.journal.facts import facts_from_journal
from hubchaos.score import score_run
from tests.experiments.conftest import EXPERIMENTS, REPO, HubStack

pytestmark = [pytest.mark.stack, pytest.mark.slow]

GAMEDAY_TIMEOUT_S = 240  # one ~35 s replay, two profile switches, a wait for quiet alerts

PLAN = f"""\
title: Pool incident drill
steps:
  - briefing: We replay the 2024-01-15 flood on today's settings.
  - experiment: {EXPERIMENTS / "incident-replay.yaml"}
    profile: fixed
  - questions:
      - Which alert fired first?
      - Where would you look?
"""
# Enter for the briefing, then two answers of which the first has two lines
ANSWERS = "\nHubDBPoolRequestsWaiting fired first\nthen HubHighErrorRate\n\npg_stat_activity\n\n"


def test_a_game_day_on_the_real_stack(hub_stack: HubStack, tmp_path: Path) -> None:
    # found on `incident`: the game day switches to `fixed` for its run, then back
    hub_stack.use_profile("incident")
    plan = tmp_path / "drill.yaml"
    plan.write_text(PLAN)
    report = tmp_path / "report"
    try:
        result = subprocess.run(
            [sys.executable, "-m", "hubchaos", "gameday", str(plan),
             "--state-dir", str(hub_stack.state_dir), "--report", str(report)],
            cwd=REPO,
            env={**os.environ, "HUBCHAOS_PORT_OFFSET": str(hub_stack.offset)},
            input=ANSWERS,
            capture_output=True,
            text=True,
            timeout=GAMEDAY_TIMEOUT_S,
            check=False,
        )  # fmt: skip
        left_on = hub_stack.stack.state()
    finally:
        hub_stack.use_profile("fixed")
    assert result.returncode == 0, result.stderr[-4000:]

    record = json.loads((report / "gameday.json").read_text())
    (run,) = record["experiments"]
    journal = json.loads(Path(run["journal"]).read_text())
    assert journal["hubchaos_safety"]["clean"] is True
    score = score_run(journal).value
    assert (run["verdict"]["code"], run["verdict"]["status_word"], run["score"]) == (
        0, "passed", score,
    )  # fmt: skip
    detect = facts_from_journal(journal).seconds_to_detect()
    assert detect is not None and detect <= 30

    observations = [(o["question"], o["text"], o["source"]) for o in record["observations"]]
    assert observations == [
        ("Which alert fired first?", "HubDBPoolRequestsWaiting fired first", "terminal"),
        ("Which alert fired first?", "then HubHighErrorRate", "terminal"),
        ("Where would you look?", "pg_stat_activity", "terminal"),
    ]
    # answered after the run, each with its own time
    times = [datetime.fromisoformat(o["time"]) for o in record["observations"]]
    assert datetime.fromisoformat(journal["end"]) <= times[0] <= times[1] <= times[2]

    markdown = (report / "gameday.md").read_text()
    html = (report / "gameday.html").read_text()
    for text in (
        "HubDBPoolRequestsWaiting fired first",
        "then HubHighErrorRate",
        "pg_stat_activity".replace("_", "\\_"),
    ):
        assert text in markdown
    assert "HubDBPoolRequestsWaiting fired first" in html
    assert markdown.startswith("# Game day: Pool incident drill: passed")
    assert (
        "| 2 | Incident replay: a connection flood against the learning hub | fixed | passed (0) |"
        in (markdown)
    )
    assert f"Resilience score of the game day: **{score}/100**" in markdown
    assert f"Time to detect (first fault to first alert firing): **{detect:.1f}" in markdown
    assert "How it is computed." in markdown
    assert (report / "step-02-incident-replay" / "incident-replay.html").is_file()
    # the stack was left as the game day found it
    assert left_on is not None and left_on.profile == "incident"
    assert record["stack"] == [
        f"used the running stack in {hub_stack.state_dir} (profile incident)",
        "switched the stack to profile fixed",
        "switched the stack back to profile incident",
    ]
