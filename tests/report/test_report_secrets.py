"""No password reaches a report: not from the configuration, outputs, errors or secrets."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hubchaos.report.writer import write_report
from tests.report.conftest import RUNS, WrittenReport

DSN_PASSWORD = re.compile(r"://([^:/@\s]+):([^@\s]+)@")
PLANTED = "Pl4nted-S3cret"


def _written(files: list[Path]) -> str:
    return "\n".join(path.read_text() for path in files)


@pytest.mark.parametrize("run", RUNS)
def test_the_dsn_passwords_of_a_real_journal_are_not_in_its_report(
    reports: dict[str, WrittenReport], run: str
) -> None:
    raw = (Path(__file__).parent / "data" / f"{run}.journal.json").read_text()
    credentials = set(DSN_PASSWORD.findall(raw))
    assert credentials, "the stored journals carry DSNs with passwords in their configuration"
    written = _written(reports[run].files)
    for user, password in credentials:
        assert f":{password}@" not in written and f"{user}:{password}" not in written


def test_planted_secrets_are_masked_wherever_they_are(
    journal: Callable[[str], dict[str, Any]], tmp_path: Path
) -> None:
    data = journal("incident-replay.incident")
    data["experiment"]["configuration"]["hubchaos_db_dsn"] = (
        f"postgresql://app:{PLANTED}-1@127.0.0.1:15432/learninghub"
    )
    data["experiment"]["secrets"] = {"db": {"password": f"{PLANTED}-2"}}
    flood = data["run"][0]
    flood["status"] = "failed"
    flood["exception"] = [
        "Traceback (most recent call last):\n",
        f"chaoslib.exceptions.ActivityFailed: cannot log in to "
        f"postgresql://learninghub:{PLANTED}-3@127.0.0.1:15433/learninghub\n",
    ]
    deviating = data["steady_states"]["after"]["probes"][3]
    deviating["output"]["peak"] = f"host=127.0.0.1 password={PLANTED}-4"
    data["hubchaos_safety"]["errors"] = [f"reconnect dsn=postgresql://x:{PLANTED}-5@h/db failed"]
    written = _written(write_report(data, tmp_path, "planted"))
    # the planted texts are in the report, masked: the places are really rendered
    assert "cannot log in to postgresql://learninghub:***@" in written
    assert "password=***" in written
    assert "reconnect dsn=postgresql://x:***@h/db failed" in written
    assert PLANTED not in written
