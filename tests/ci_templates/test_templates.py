"""The nightly CI templates: valid YAML of the right shape, and hubchaos commands that exist.

Every `hubchaos ...` line is parsed by the real CLI (tests/ci_templates/commands.py),
so renaming an option breaks this test instead of the nightly run. The
GitHub workflow and the GitLab job are also validated against the schemas
check-jsonschema ships for them, offline.
"""

from __future__ import annotations

import json
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from tests.ci_templates.commands import hubchaos_commands, parse_hubchaos, shell_commands

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "nightly.yml"
GITLAB_JOB = REPO / "ci-templates" / "gitlab-nightly.yml"
JOB_NAME = "hubchaos-nightly"
CRON_FIELDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def _workflow() -> dict[str, Any]:
    data = _load(WORKFLOW)
    # YAML 1.1 reads the bare key `on` as True
    data["on"] = data.pop(True, data.get("on"))
    return data


def _valid_cron(expression: str) -> bool:
    fields = expression.split()
    if len(fields) != 5:
        return False
    for text, (low, high) in zip(fields, CRON_FIELDS, strict=True):
        if text == "*":
            continue
        if not all(part.isdigit() and low <= int(part) <= high for part in text.split(",")):
            return False
    return True


def _steps_running(steps: list[dict[str, Any]], subcommand: str) -> list[dict[str, Any]]:
    return [
        step
        for step in steps
        if any(args and args[0] == subcommand for args in hubchaos_commands(step.get("run", "")))
    ]


def test_the_workflow_runs_nightly_and_on_demand() -> None:
    on = _workflow()["on"]
    (schedule,) = on["schedule"]
    assert _valid_cron(schedule["cron"]), schedule
    assert "workflow_dispatch" in on
    assert not {"push", "pull_request"} & set(on)  # a nightly check, not a PR gate


def test_the_workflow_starts_runs_keeps_and_always_stops() -> None:
    jobs = _workflow()["jobs"]
    assert jobs
    for job in jobs.values():
        assert job["runs-on"] and job["timeout-minutes"] <= 60
        steps = job["steps"]
        assert all(("run" in step) != ("uses" in step) for step in steps), steps
        assert steps[0]["uses"].startswith("actions/checkout@")
        assert any(step.get("run", "").strip() == "./scripts/setup" for step in steps)
        (up,) = _steps_running(steps, "up")
        (run,) = _steps_running(steps, "run")
        (down,) = _steps_running(steps, "down")
        assert steps.index(up) < steps.index(run) < steps.index(down) == len(steps) - 1
        assert down["if"] == "always()"
        (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
        assert upload["if"] == "always()"
        _, params = parse_hubchaos(hubchaos_commands(run["run"])[0])
        paths = upload["with"]["path"].split()
        assert params["junit_path"] and params["report_dir"] and params["no_start"]
        assert params["live"] is False  # CI logs get plain lines
        assert job["env"]["REPORT_DIR"] + "/" in paths and ".hubchaos/logs/" in paths


def test_the_gitlab_job_runs_on_schedules_and_publishes_junit() -> None:
    data = _load(GITLAB_JOB)
    job = data[JOB_NAME]
    assert set(data) == {JOB_NAME}  # a template to include: no stages or globals of its own
    rules = [rule["if"] for rule in job["rules"]]
    assert '$CI_PIPELINE_SOURCE == "schedule"' in rules
    assert all("push" not in rule and "merge_request" not in rule for rule in rules)
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["reports"]["junit"] == "reports/junit.xml"
    assert {"reports/", ".hubchaos/logs/"} <= set(artifacts["paths"])
    script = "\n".join(job["script"])
    (run,) = hubchaos_commands(script)
    _, params = parse_hubchaos(run)
    assert params["junit_path"] == "$REPORT_DIR/junit.xml" and job["variables"]["REPORT_DIR"]
    assert [args[0] for args in hubchaos_commands("\n".join(job["before_script"]))] == ["up"]
    # after_script runs even when the script failed or timed out
    assert [args[0] for args in hubchaos_commands("\n".join(job["after_script"]))] == ["down"]
    assert not (REPO / ".gitlab-ci.yml").exists()


def _all_snippets() -> list[tuple[str, str]]:
    snippets = [
        (f"{WORKFLOW.name}: {step.get('name')}", step["run"])
        for job in _workflow()["jobs"].values()
        for step in job["steps"]
        if "run" in step
    ]
    job = _load(GITLAB_JOB)[JOB_NAME]
    for key in ("before_script", "script", "after_script"):
        snippets += [(f"{GITLAB_JOB.name}: {key}", line) for line in job[key]]
    return snippets


@pytest.mark.parametrize(("where", "snippet"), _all_snippets())
def test_every_hubchaos_command_parses_with_the_real_cli(where: str, snippet: str) -> None:
    for arguments in hubchaos_commands(snippet):
        try:
            parse_hubchaos(arguments)
        except click.UsageError as exc:
            pytest.fail(f"{where}: `hubchaos {' '.join(arguments)}`: {exc.format_message()}")


@pytest.mark.parametrize(("where", "snippet"), _all_snippets())
def test_every_snippet_is_valid_shell(where: str, snippet: str) -> None:
    check = subprocess.run(
        ["bash", "-n"], input=snippet, capture_output=True, text=True, timeout=10, check=False
    )
    assert check.returncode == 0, f"{where}: {check.stderr}"


def test_both_templates_use_hubchaos_for_each_stage() -> None:
    used = {args[0] for _, snippet in _all_snippets() for args in hubchaos_commands(snippet)}
    assert used == {"up", "run", "down"}


@pytest.mark.parametrize(
    "line",
    [
        "hubchaos run experiments/*.yaml --junits out.xml",  # misspelt option
        "hubchaos start --profile fixed",  # no such subcommand
        "cd x && hubchaos run",  # EXPERIMENT... is required
        "HUBCHAOS_PORT_OFFSET=5 hubchaos run e.yaml --profile peak",  # not a profile
        "python3 -m hubchaos down --purge --everything",
    ],
)
def test_the_command_check_catches_mistakes(line: str) -> None:
    (arguments,) = hubchaos_commands(line)
    with pytest.raises(click.UsageError):
        parse_hubchaos(arguments)


def test_commands_are_found_across_continuations_operators_and_comments() -> None:
    snippet = (
        "set -e  # hubchaos down in a comment is not a command\n"
        "hubchaos up --profile fixed && echo up || exit 1\n"
        'HUBCHAOS_PORT_OFFSET=600 hubchaos run a.yaml \\\n  --junit "$DIR/j.xml" --plain; true\n'
    )
    assert shell_commands("echo a | grep b") == [["echo", "a"], ["grep", "b"]]
    assert hubchaos_commands(snippet) == [
        ["up", "--profile", "fixed"],
        ["run", "a.yaml", "--junit", "$DIR/j.xml", "--plain"],
    ]


def _schema_errors(document: dict[str, Any], schema: str) -> list[str]:
    """What the schema check-jsonschema ships for this CI system says about `document`."""
    pytest.importorskip(
        "check_jsonschema", reason="check-jsonschema (dev extra) bundles the CI schemas"
    )
    import jsonschema  # a dependency of check-jsonschema

    vendored = resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / schema
    schema_document = json.loads(vendored.read_text())
    validator = jsonschema.validators.validator_for(schema_document)(schema_document)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    return [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.mark.parametrize(
    ("path", "schema"),
    [(WORKFLOW, "github-workflows.json"), (GITLAB_JOB, "gitlab-ci.json")],
)
def test_the_templates_match_the_published_schemas(path: Path, schema: str) -> None:
    document = _workflow() if path == WORKFLOW else _load(path)
    errors = _schema_errors(document, schema)
    assert not errors, "\n".join(errors[:5])


def test_the_schema_check_catches_a_broken_workflow() -> None:
    broken = _workflow()
    job = next(iter(broken["jobs"].values()))
    del job["runs-on"]
    job["steps"][0]["uses"] = 42
    assert len(_schema_errors(broken, "github-workflows.json")) >= 1
