"""Game-day plans are validated before anything runs: every rule has its one-line message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hubchaos.errors import UserError
from hubchaos.gameday.plan import PlanError, load_plan

REPO = Path(__file__).resolve().parents[2]
REPLAY = REPO / "experiments" / "incident-replay.yaml"
SHIPPED = REPO / "gamedays" / "incident-training.yaml"


def _write(directory: Path, text: str, name: str = "plan.yaml") -> Path:
    path = directory / name
    path.write_text(text)
    return path


def _error(path: Path | str) -> str:
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    message = str(caught.value)
    assert "\n" not in message, "errors are one line"
    assert isinstance(caught.value, UserError)  # the CLI prints it as one line, exit 2
    return message


# (plan text, the message after "<path>: ")
RULES = {
    "not a mapping": ("- briefing: hi\n", "a plan is a YAML mapping with 'title' and 'steps'"),
    "unknown top-level key": (
        "titel: x\ntitle: x\nsteps: [{note: n}]\n",
        "unknown key 'titel' (allowed: title, description, stack, steps)",
    ),
    "title missing": ("steps: [{note: n}]\n", "title: required: the game day's name"),
    "title empty": ("title: '  '\nsteps: [{note: n}]\n", "title: must be non-empty text"),
    "description not text": (
        "title: x\ndescription: [a]\nsteps: [{note: n}]\n",
        "description: must be non-empty text",
    ),
    "steps missing": ("title: x\n", "steps: required, a non-empty list of steps"),
    "steps empty": ("title: x\nsteps: []\n", "steps: required, a non-empty list of steps"),
    "step not a mapping": (
        "title: x\nsteps: [hello]\n",
        "steps[0]: a step is a mapping such as {briefing: TEXT}",
    ),
    "step without a kind": (
        "title: x\nsteps: [{note: n}, {title: t}]\n",
        "steps[1]: no step kind: use one of briefing, experiment, pause, question, "
        "questions, note, recap",
    ),
    "step with two kinds": (
        "title: x\nsteps: [{briefing: b, note: n}]\n",
        "steps[0]: more than one step kind (briefing, note): one per step",
    ),
    "unknown key of a step": (
        "title: x\nsteps: [{note: n}, {pause: p, profile: fixed}]\n",
        "steps[1]: unknown key 'profile' (allowed: pause, title)",
    ),
    "empty briefing": (
        "title: x\nsteps: [{briefing: ''}]\n",
        "steps[0].briefing: must be non-empty text",
    ),
    "note not text": ("title: x\nsteps: [{note: 3}]\n", "steps[0].note: must be non-empty text"),
    "step title not text": (
        "title: x\nsteps: [{note: n, title: [t]}]\n",
        "steps[0].title: must be non-empty text",
    ),
    "empty question": (
        "title: x\nsteps: [{question: null}]\n",
        "steps[0].question: must be non-empty text",
    ),
    "questions not a list": (
        "title: x\nsteps: [{questions: 'What?'}]\n",
        "steps[0].questions: a non-empty list of questions",
    ),
    "one of the questions empty": (
        "title: x\nsteps: [{questions: ['What?', '']}]\n",
        "steps[0].questions[1]: must be non-empty text",
    ),
    "experiment not a path": (
        "title: x\nsteps: [{experiment: {file: x}}]\n",
        "steps[0].experiment: required, the path of an experiment file",
    ),
    "stack not a mapping": (
        "title: x\nstack: fixed\nsteps: [{note: n}]\n",
        "stack: a mapping such as {profile: fixed, replicas: 2}",
    ),
    "unknown stack key": (
        "title: x\nstack: {size: 3}\nsteps: [{note: n}]\n",
        "stack: unknown key 'size' (allowed: profile, replicas)",
    ),
    "unknown stack profile": (
        "title: x\nstack: {profile: prod}\nsteps: [{note: n}]\n",
        "stack.profile: unknown profile 'prod' (choose one of fixed, incident)",
    ),
    "replicas out of range": (
        "title: x\nstack: {replicas: 0}\nsteps: [{note: n}]\n",
        "stack.replicas: a whole number from 1 to 20",
    ),
    "replicas not a number": (
        "title: x\nstack: {replicas: two}\nsteps: [{note: n}]\n",
        "stack.replicas: a whole number from 1 to 20",
    ),
}


@pytest.mark.parametrize("rule", list(RULES))
def test_each_rule_names_the_key(tmp_path: Path, rule: str) -> None:
    text, expected = RULES[rule]
    plan = _write(tmp_path, text)
    assert _error(plan) == f"{plan}: {expected}"


def test_a_missing_plan_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert _error(missing) == f"{missing}: no such game-day plan"


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    plan = _write(tmp_path, "title: x\nsteps:\n  - questions: [What next?, Where?]\n")
    message = _error(plan)
    assert message.startswith(f"{plan}: not valid YAML: ")
    assert message.endswith("(line 3)")


def test_a_missing_experiment_is_named_as_written(tmp_path: Path) -> None:
    plan = _write(
        tmp_path,
        "title: x\nsteps:\n  - briefing: b\n  - note: n\n  - experiment: experiments/nope.yaml\n",
    )
    message = _error(plan)
    assert message.startswith(f"{plan}: steps[2].experiment: experiments/nope.yaml does not exist")
    # relative paths are resolved against the plan's directory, and the message says where
    assert str(tmp_path / "experiments" / "nope.yaml") in message


def test_an_invalid_experiment_is_rejected_with_chaoslib_s_reason(tmp_path: Path) -> None:
    broken = _write(tmp_path, "title: no method\ndescription: d\n", "broken.yaml")
    plan = _write(tmp_path, f"title: x\nsteps:\n  - experiment: {broken.name}\n")
    message = _error(plan)
    assert message.startswith(f"{plan}: steps[0].experiment: {broken}: invalid experiment: ")


def test_an_unknown_experiment_profile(tmp_path: Path) -> None:
    plan = _write(tmp_path, f"title: x\nsteps:\n  - experiment: {REPLAY}\n    profile: prod\n")
    assert _error(plan) == (
        f"{plan}: steps[0].profile: unknown profile 'prod' (choose one of fixed, incident)"
    )


def test_a_valid_plan_is_read_in_order(tmp_path: Path) -> None:
    relative = os.path.relpath(REPLAY, tmp_path)
    plan_path = _write(
        tmp_path,
        "title: ' Training '\n"
        "stack: {profile: incident, replicas: 3}\n"
        "steps:\n"
        "  - briefing: Hello\n"
        "    title: Start\n"
        f"  - experiment: {relative}\n"
        "    profile: fixed\n"
        "  - questions: ['What?', 'Where?']\n"
        "  - question: Why?\n"
        "  - pause: Look\n"
        "  - note: Noted\n"
        "  - recap: So far\n",
    )
    plan = load_plan(plan_path)
    assert (plan.title, plan.profile, plan.replicas) == ("Training", "incident", 3)
    assert [s.kind for s in plan.steps] == [
        "briefing", "experiment", "question", "question", "pause", "note", "recap",
    ]  # fmt: skip
    briefing, experiment, questions, question = plan.steps[:4]
    assert (briefing.title, briefing.text, briefing.number) == ("Start", "Hello", 1)
    assert experiment.experiment == relative and experiment.experiment_path == REPLAY
    assert experiment.profile == "fixed"
    assert experiment.experiment_title.startswith("Incident replay")
    assert experiment.title == experiment.experiment_title  # no title: the experiment's
    assert questions.questions == ("What?", "Where?") and questions.title == "What?"
    assert question.questions == ("Why?",)
    assert plan.questions == ["What?", "Where?", "Why?"]
    assert [s.index for s in plan.steps] == list(range(7))


def test_defaults_without_a_stack_section(tmp_path: Path) -> None:
    plan = load_plan(_write(tmp_path, "title: x\nsteps: [{note: n}]\n"))
    assert (plan.profile, plan.replicas, plan.description) == ("fixed", 2, "")


def test_the_shipped_training_plan_is_valid() -> None:
    plan = load_plan(SHIPPED)
    experiments = plan.experiments
    assert [(s.experiment_path, s.profile) for s in experiments] == [
        (REPLAY, "incident"),
        (REPLAY, "fixed"),
    ]
    text = " ".join(s.text for s in plan.steps) + " ".join(plan.questions)
    assert "2024-01-15" in text
    assert "environments/monitoring/RUNBOOK.md" in " ".join(plan.questions)
    assert (REPO / "environments" / "monitoring" / "RUNBOOK.md").is_file()
    # the incident first, questions, then the fix, questions, the comparison and the debrief
    assert [s.kind for s in plan.steps] == [
        "briefing", "pause", "experiment", "question", "note",
        "experiment", "question", "recap", "question", "note",
    ]  # fmt: skip
