"""The JUnit XML shape CI tools share (Jenkins, GitLab, GitHub test reporters), as a checker.

testsuites > testsuite > testcase; each testsuite counts its testcases in
tests/failures/errors(/skipped) and gives a time; each testcase has a name,
a classname and a time, and at most one of failure/error/skipped, which
carry a message (a type is optional: pytest writes none). `check_junit` returns the
testcases so a test can go on asserting their content.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

SUITE_CHILDREN = {"properties", "testcase", "system-out", "system-err"}
CASE_CHILDREN = {"failure", "error", "skipped", "system-out", "system-err", "properties"}
OUTCOMES = ("failure", "error", "skipped")


def _count(element: ET.Element, name: str) -> int:
    raw = element.get(name)
    assert raw is not None, f"<{element.tag}> lacks {name}="
    value = int(raw)
    assert value >= 0, f"<{element.tag} {name}={raw}>"
    return value


def _seconds(element: ET.Element) -> float:
    raw = element.get("time")
    assert raw is not None, f"<{element.tag}> lacks time="
    value = float(raw)
    assert value >= 0, f"<{element.tag} time={raw}>"
    return value


def _check_properties(properties: ET.Element) -> None:
    for prop in properties:
        assert prop.tag == "property", prop.tag
        assert prop.get("name") and prop.get("value") is not None, prop.attrib


def _check_case(case: ET.Element) -> str:
    """The testcase's outcome: passed, failure, error or skipped."""
    assert case.get("name"), case.attrib
    assert case.get("classname"), case.attrib
    _seconds(case)
    tags = [child.tag for child in case]
    assert set(tags) <= CASE_CHILDREN, tags
    outcomes = [tag for tag in tags if tag in OUTCOMES]
    assert len(outcomes) <= 1, f"testcase {case.get('name')}: {outcomes}"
    for child in case:
        if child.tag in ("failure", "error"):
            assert child.get("message"), f"<{child.tag}> without a message"
        if child.tag == "properties":
            _check_properties(child)
    return outcomes[0] if outcomes else "passed"


def check_junit(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites", root.tag
    suites = list(root)
    assert suites and all(suite.tag == "testsuite" for suite in suites), [s.tag for s in suites]
    cases: list[ET.Element] = []
    for suite in suites:
        assert suite.get("name"), suite.attrib
        tags = {child.tag for child in suite}
        assert tags <= SUITE_CHILDREN, tags
        for properties in suite.findall("properties"):
            _check_properties(properties)
        outcomes = [_check_case(case) for case in suite.findall("testcase")]
        assert _count(suite, "tests") == len(outcomes)
        assert _count(suite, "failures") == outcomes.count("failure")
        assert _count(suite, "errors") == outcomes.count("error")
        if suite.get("skipped") is not None:
            assert _count(suite, "skipped") == outcomes.count("skipped")
        _seconds(suite)
        if suite.get("timestamp"):
            datetime.fromisoformat(suite.get("timestamp", ""))
        cases += suite.findall("testcase")
    for total in ("tests", "failures", "errors"):
        if root.get(total) is not None:
            assert _count(root, total) == sum(_count(suite, total) for suite in suites)
    return cases
