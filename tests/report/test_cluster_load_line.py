"""The report's "Load the experiment generated" names a cluster flood's Job and what its pods
sent, from the action's own output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hubchaos.report.writer import write_report

Journals = Callable[[str], dict[str, Any]]


def test_a_cluster_flood_is_one_load_line(journal: Journals, tmp_path: Path) -> None:
    data = journal("incident-replay.fixed")
    data["run"].append(
        {
            "activity": {"name": "spike-from-a-job-in-the-cluster", "type": "action"},
            "status": "succeeded",
            "start": data["run"][-1]["start"],
            "end": data["run"][-1]["end"],
            "output": {
                "kind": "cluster_http",
                "job": "hubchaos-flood-1-abc123",
                "job_condition": "Complete",
                "parallelism": 3,
                "pods_succeeded": 3,
                "requests": 3086,
                "requests_per_second": 123.1,
                "status_counts": {"200": 3043, "503": 43},
                "errors_by_kind": {},
            },
        }
    )
    markdown = next(
        p for p in write_report(data, tmp_path, stem="r") if p.suffix == ".md"
    ).read_text()
    assert (
        "**spike-from-a-job-in-the-cluster**: 3 of 3 pods of Job hubchaos-flood-1-abc123 "
        "(Complete) sent 3086 HTTP requests (123/s); responses by status 200: 3043, 503: 43; "
        "transport errors none"
    ) in markdown
