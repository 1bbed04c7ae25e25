"""JUnit XML for CI: one testcase per experiment.

A deviation is a <failure> listing the probes that deviated with their
values; an activity that could not run (or an invalid/interrupted run) is an
<error>, so CI dashboards separate "the system deviated" from "the experiment
broke".
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ExperimentResult", "write_junit"]


@dataclass
class ExperimentResult:
    name: str
    file: str
    code: int  # verdict exit code, DESIGN §4
    summary: str
    details: str
    seconds: float


def write_junit(results: list[ExperimentResult], path: str | Path) -> None:
    suite = ET.Element(
        "testsuite",
        name="hubchaos",
        tests=str(len(results)),
        failures=str(sum(1 for r in results if r.code == 1)),
        errors=str(sum(1 for r in results if r.code not in (0, 1))),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="hubchaos.experiments",
            name=result.name,
            file=result.file,
            time=f"{result.seconds:.3f}",
        )
        if result.code == 1:
            failure = ET.SubElement(case, "failure", message=result.summary, type="deviated")
            failure.text = result.details
        elif result.code != 0:
            error = ET.SubElement(case, "error", message=result.summary, type=f"exit-{result.code}")
            error.text = result.details
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
