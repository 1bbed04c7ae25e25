"""JUnit XML for CI: one testcase per experiment.

A deviation is a <failure> listing the probes that deviated with their
values; an activity that could not run (or an invalid, not-steady or
interrupted run) is an <error> typed with the verdict's word, so CI
dashboards separate "the system deviated" from "the experiment broke". An
experiment that was never started (another file was invalid, the stack did
not come up) is <skipped> or an <error> saying why, so the report always
has one testcase per experiment given.

The shape is the one CI tools share (Jenkins, GitLab, GitHub test
reporters): testsuites > testsuite > testcase, with tests/failures/errors/
skipped/time counted on both containers. The text of a failure or error
ends with the path of the run's journal.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hubchaos import __version__
from hubchaos.verdict import STATUS_WORDS, ExitCode

__all__ = ["SKIPPED", "ExperimentResult", "write_junit"]

SKIPPED = -1  # `code` of an experiment that was not run at all
SUITE_NAME = "hubchaos"


@dataclass
class ExperimentResult:
    name: str
    file: str
    code: int  # verdict exit code, DESIGN §4 (or SKIPPED)
    summary: str
    details: str
    seconds: float
    journal: str = ""  # path of the journal, when there is one


def write_junit(
    results: list[ExperimentResult], path: str | Path, started: datetime | None = None
) -> None:
    failures = sum(1 for r in results if r.code == ExitCode.DEVIATED)
    errors = sum(1 for r in results if r.code not in (ExitCode.PASSED, ExitCode.DEVIATED, SKIPPED))
    counts = {
        "tests": str(len(results)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(sum(1 for r in results if r.code == SKIPPED)),
        "time": f"{sum(r.seconds for r in results):.3f}",
    }
    suites = ET.Element("testsuites", {"name": SUITE_NAME, **counts})
    suite = ET.SubElement(
        suites,
        "testsuite",
        {
            "name": SUITE_NAME,
            **counts,
            "timestamp": (started or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S"),
            "hostname": socket.gethostname(),
        },
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="hubchaos.version", value=__version__)
    for result in results:
        _testcase(suite, result)
    ET.indent(suites)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def _testcase(suite: ET.Element, result: ExperimentResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"{SUITE_NAME}.{Path(result.file).stem}",
        name=result.name,
        file=result.file,
        time=f"{result.seconds:.3f}",
    )
    if result.code == SKIPPED:
        ET.SubElement(case, "skipped", message=result.summary)
    elif result.code == ExitCode.DEVIATED:
        failure = ET.SubElement(case, "failure", message=result.summary, type="deviated")
        failure.text = _text(result)
    elif result.code != ExitCode.PASSED:
        error = ET.SubElement(case, "error", message=result.summary, type=_status_word(result.code))
        error.text = _text(result)


def _text(result: ExperimentResult) -> str:
    """Every deviation or error in full, then where to look next."""
    return f"{result.details}\njournal: {result.journal}" if result.journal else result.details


def _status_word(code: int) -> str:
    try:
        return STATUS_WORDS[ExitCode(code)]
    except ValueError:
        return "error"
