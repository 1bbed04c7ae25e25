"""The pytest plugin: what it collects, its options, and how it reports experiments that cannot run.

These run pytest in-process on small trees (pytester) and need no stack;
tests/experiments/test_pytest_plugin_e2e.py runs experiments through it
against the real stack.
"""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.experiments.junit_shape import check_junit

pytest_plugins = ["pytester"]

EXPERIMENT = """\
version: 1.0.0
title: {title}
description: A probe of the app.
tags: [{tag}]
method:
  - name: app-answers
    type: probe
    provider:
      type: python
      module: hubchaos.probes.http
      func: http_get_status
      arguments: {{url: /healthz, timeout: 5}}
"""
NOT_AN_EXPERIMENT = "global:\n  scrape_interval: 1s\nscrape_configs: []\n"
INVALID = "version: 1.0.0\ntitle: Half\ndescription: x\nmethod:\n  - {name: a, type: action}\n"
TEST_MODULE = "def test_ok():\n    pass\n"


@pytest.fixture
def tree(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project: its own tests (testpaths), experiments, and fixture experiments deep in tests/."""
    pytester.makeini("[pytest]\ntestpaths = tests\n")
    files = {
        "experiments/flood.yaml": EXPERIMENT.format(title="Flood", tag="flood"),
        "experiments/nested/deep.yaml": EXPERIMENT.format(title="Deep", tag="deep"),
        "experiments/prometheus.yml": NOT_AN_EXPERIMENT,
        "tests/test_own.py": TEST_MODULE,
        "tests/data/fixture.yaml": EXPERIMENT.format(title="Fixture", tag="fixture"),
    }
    for name, text in files.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    latency = {
        "version": "1.0.0",
        "title": "Latency",
        "description": "JSON works too.",
        "method": [{"name": "p", "type": "probe", "provider": {"type": "process", "path": "true"}}],
    }
    (pytester.path / "experiments" / "latency.json").write_text(json.dumps(latency))
    return pytester


def _collected(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = pytester.runpytest("--collect-only", "-q", "--strict-markers", *args)
    return sorted(line for line in result.outlines if "::" in line)


def test_the_entry_point_loads_the_plugin(pytester: pytest.Pytester) -> None:
    (plugin,) = [ep for ep in entry_points(group="pytest11") if ep.name == "hubchaos"]
    assert plugin.value == "hubchaos.pytest_plugin"
    result = pytester.runpytest("--help")
    for option in ("--hubchaos-env", "--hubchaos-profile", "--hubchaos-report-dir",
                   "--hubchaos-state-dir", "--hubchaos-no-start"):  # fmt: skip
        assert option in result.stdout.str()
    markers = pytester.runpytest("--markers").stdout.str()
    assert "@pytest.mark.hubchaos_experiment" in markers


def test_plain_pytest_and_a_tests_dir_never_collect_experiments(tree: pytest.Pytester) -> None:
    own = ["tests/test_own.py::test_ok"]
    assert _collected(tree) == own  # testpaths
    assert _collected(tree, "tests") == own  # tests/data/fixture.yaml stays a data file
    assert _collected(tree, ".") == own  # experiments/ is not "." itself


def test_an_experiments_dir_on_the_command_line_collects_its_experiments(
    tree: pytest.Pytester,
) -> None:
    assert _collected(tree, "experiments") == [
        "experiments/flood.yaml::flood",
        "experiments/latency.json::latency",
    ]  # not prometheus.yml (no title/method), not nested/ (not pointed at)
    assert _collected(tree, "experiments/nested") == ["experiments/nested/deep.yaml::deep"]
    assert _collected(tree, "tests/data/fixture.yaml") == ["tests/data/fixture.yaml::fixture"]
    assert _collected(tree, "experiments/flood.yaml::flood") == ["experiments/flood.yaml::flood"]


def test_marker_and_tags_select_experiments(tree: pytest.Pytester) -> None:
    both = ("experiments", "tests")
    assert _collected(tree, *both, "-m", "hubchaos_experiment") == [
        "experiments/flood.yaml::flood",
        "experiments/latency.json::latency",
    ]
    assert _collected(tree, *both, "-m", "not hubchaos_experiment") == [
        "tests/test_own.py::test_ok"
    ]
    assert _collected(tree, *both, "-k", "flood") == ["experiments/flood.yaml::flood"]


def test_a_bad_profile_is_a_usage_error(tree: pytest.Pytester) -> None:
    bogus = tree.runpytest_subprocess("experiments", "--hubchaos-profile", "peak")
    assert bogus.ret == pytest.ExitCode.USAGE_ERROR
    bogus.stderr.fnmatch_lines(["*--hubchaos-profile: invalid choice: 'peak'*"])


def test_the_env_must_match_the_stack_recorded_in_the_state_dir(tree: pytest.Pytester) -> None:
    state_dir = tree.path / "state"
    state_dir.mkdir()
    (state_dir / "docker.json").write_text("{}")  # what `hubchaos up --env docker` writes first
    result = tree.runpytest_subprocess("experiments/flood.yaml", "--hubchaos-state-dir", "state")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [f"*the stack is not available: the stack in {state_dir} runs with env docker, not local*"]
    )


def test_docker_without_a_stack_is_an_error_too(tree: pytest.Pytester) -> None:
    result = tree.runpytest_subprocess(
        "experiments/flood.yaml", "--hubchaos-env", "docker", "--hubchaos-no-start",
        "--hubchaos-state-dir", "no-stack",
    )  # fmt: skip
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR experiments/flood.yaml::flood - Failed: the stack is*"])
    assert "Traceback" not in result.stdout.str()


def test_no_stack_is_an_error_for_each_experiment_not_a_failure(tree: pytest.Pytester) -> None:
    junit = tree.path / "out.xml"
    result = tree.runpytest_subprocess(
        "experiments", "--hubchaos-no-start", "--hubchaos-state-dir", "no-stack",
        f"--junitxml={junit}",
    )  # fmt: skip
    result.assert_outcomes(errors=2)
    state_dir = tree.path / "no-stack"
    message = f"the stack is not available: no healthy stack in {state_dir}"
    # once per experiment in its error section; the short summary repeats it in
    # full where pytest does not truncate (CI=true), so count at least two
    assert result.stdout.str().count(message) >= 2
    result.stdout.fnmatch_lines(["*ERROR at setup of hubchaos experiment: Flood*", f"{message}*"])
    assert "Traceback" not in result.stdout.str()
    assert "During handling" not in result.stdout.str()  # one clear line, no exception chain
    cases = check_junit(junit)
    assert [case.find("error") is not None for case in cases] == [True, True]


def test_an_invalid_experiment_errors_before_any_stack_is_looked_for(
    tree: pytest.Pytester,
) -> None:
    (tree.path / "broken").mkdir()
    (tree.path / "broken" / "half.yaml").write_text(INVALID)
    result = tree.runpytest_subprocess(
        "broken", "--hubchaos-no-start", "--hubchaos-state-dir", "no-stack"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*broken/half.yaml: invalid experiment: *"])
    assert "no healthy stack" not in result.stdout.str()


def test_setup_plan_runs_nothing(tree: pytest.Pytester) -> None:
    result = tree.runpytest_subprocess(
        "experiments", "--setup-plan", "--hubchaos-no-start", "--hubchaos-state-dir", "no-stack"
    )
    assert result.ret == pytest.ExitCode.OK
    assert not Path(tree.path / "no-stack" / "runs").exists()
