"""The impact table as users felt it: before, during and after all filled, goodput vs capacity."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hubchaos.report.impact import impact_rows
from hubchaos.report.writer import write_report

Journals = Callable[[str], dict[str, Any]]


def with_capacity(journal: dict[str, Any], before: float, after: float) -> dict[str, Any]:
    """The run as if its hypothesis had measured capacity before and after the method."""
    for phase, goodput in (("before", before), ("after", after)):
        journal["steady_states"][phase]["probes"].append(
            {
                "activity": {
                    "name": "users-are-served-as-in-the-steady-state",
                    "type": "probe",
                    "provider": {"func": "measure_capacity", "module": "hubchaos.probes.capacity"},
                },
                "status": "succeeded",
                "tolerance_met": True,
                "output": {
                    "goodput_per_second": goodput,
                    "share_5xx": 0.0,
                    "p95_ms": 12.0,
                    "served_share": 1.0,
                },
            }
        )
    return journal


def test_every_column_is_filled_and_goodput_is_set_against_capacity(journal: Journals) -> None:
    rows = {
        row[0]: row[1:]
        for row in impact_rows(with_capacity(journal("incident-replay.fixed"), 400, 380))
    }
    goodput = rows["goodput (served requests/s)"]
    assert goodput[0] == "400.0" and goodput[2] == "380.0"
    # 751 + 395 served in the replay's 20 s spike: about 57/s, 14 % of the 400/s capacity
    assert float(goodput[1]) == pytest.approx(57.3, abs=0.5)
    assert rows["goodput against steady-state capacity"][1] == "14 %"
    assert rows["share of 5xx responses"] == ("0.0 %", "97.9 %", "0.0 %")
    assert rows["p95 request latency"][0] == "12 ms" and rows["p95 request latency"][2] == "12 ms"
    assert all("n/a" not in cell for row in rows.values() for cell in row)


def test_the_report_shows_it_with_its_formula(journal: Journals, tmp_path: Path) -> None:
    data = with_capacity(journal("incident-replay.fixed"), 400, 380)
    markdown = next(
        p for p in write_report(data, tmp_path, stem="r") if p.suffix == ".md"
    ).read_text()
    assert (
        "| as users felt it | before the faults | during the faults | after the faults |"
        in markdown
    )
    assert "**How it is computed:** goodput = requests served (status below 500)" in markdown


def test_a_run_without_load_or_capacity_has_no_such_table(journal: Journals) -> None:
    data = journal("incident-replay.fixed")
    data["run"] = [r for r in data["run"] if (r.get("output") or {}).get("kind") != "http"]
    assert impact_rows(data) == []
