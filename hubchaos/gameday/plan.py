"""A game-day plan: what the facilitator says, which experiments run, what participants are asked.

A plan is YAML:

    title: Alert-reading training            # required
    description: Why we do this               # optional
    stack: {profile: incident, replicas: 2}   # optional: used only if the stack must be started
    steps:                                    # required, run in order
      - briefing: Text shown to everyone       # waits for Enter
        title: What happened                   # optional on every step
      - experiment: ../experiments/incident-replay.yaml   # relative to the plan file
        profile: incident                      # optional: switch the stack first
      - pause: Look at Prometheus, then press Enter
      - question: Which alert fired first?     # answers recorded, one line each,
      - questions: [What next?, Where?]        #   until an empty line
      - note: Recorded in the report, shown, nothing waits
      - recap: Results so far                  # shows every experiment's result so far

Every step has exactly one kind key. Loading validates everything before
anything runs; each problem is one line naming the plan file and the key,
e.g. `plan.yaml: steps[2].experiment: experiments/nope.yaml does not exist`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hubchaos.errors import UserError
from hubchaos.experiments import load_valid_experiment

__all__ = ["STEP_KINDS", "Plan", "PlanError", "Step", "load_plan"]

# kind key -> the other keys a step of that kind may have
STEP_KINDS: dict[str, tuple[str, ...]] = {
    "briefing": ("title",),
    "experiment": ("title", "profile"),
    "pause": ("title",),
    "question": ("title",),
    "questions": ("title",),
    "note": ("title",),
    "recap": ("title",),
}
PLAN_KEYS = ("title", "description", "stack", "steps")
STACK_KEYS = ("profile", "replicas")
DEFAULT_PROFILE = "fixed"
DEFAULT_REPLICAS = 2
MAX_REPLICAS = 20


class PlanError(UserError):
    """A plan that cannot run; the message names the file and the key."""


@dataclass(frozen=True)
class Step:
    index: int  # position in `steps`, 0-based as in the error messages
    kind: str  # briefing | experiment | pause | question | note | recap ("questions" -> question)
    title: str
    text: str = ""  # briefing/pause/note/recap text
    questions: tuple[str, ...] = ()
    experiment: str = ""  # the path as written in the plan
    experiment_path: Path | None = None  # resolved against the plan's directory
    experiment_title: str = ""
    profile: str | None = None  # None: whatever profile the stack runs

    @property
    def number(self) -> int:
        """1-based, as people count steps (the error messages' `steps[i]` is 0-based)."""
        return self.index + 1


@dataclass(frozen=True)
class Plan:
    path: Path
    title: str
    description: str
    profile: str  # to start the stack with, if it is not running
    replicas: int
    steps: tuple[Step, ...] = field(default=())

    @property
    def experiments(self) -> list[Step]:
        return [step for step in self.steps if step.kind == "experiment"]

    @property
    def questions(self) -> list[str]:
        return [q for step in self.steps for q in step.questions]


def load_plan(path: str | Path, profile_names: list[str] | None = None) -> Plan:
    """The validated plan, or a PlanError naming the file and the key to fix.

    `profile_names`: the stack profiles a plan may name (default: the local
    stack's profiles file).
    """
    label = str(path)
    source = Path(path)
    if not source.is_file():
        raise PlanError(f"{label}: no such game-day plan")
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PlanError(f"{label}: not valid YAML: {problem}{where}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"{label}: cannot read the plan: {exc}") from exc
    return _PlanReader(label, source, profile_names).read(data)


def _headline(text: str, limit: int = 60) -> str:
    """A step without a title is named by the start of its text."""
    first = " ".join(text.split())
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


class _PlanReader:
    def __init__(self, label: str, source: Path, profile_names: list[str] | None) -> None:
        self.label = label
        self.base = source.resolve().parent
        self.source = source
        self._profile_names = profile_names

    def fail(self, where: str, problem: str) -> PlanError:
        return PlanError(
            f"{self.label}: {where}: {problem}" if where else f"{self.label}: {problem}"
        )

    @property
    def profile_names(self) -> list[str]:
        if self._profile_names is None:
            from hubchaos.stack.profiles import load_profiles

            self._profile_names = load_profiles().names()
        return self._profile_names

    def read(self, data: Any) -> Plan:
        if not isinstance(data, dict):
            raise self.fail("", "a plan is a YAML mapping with 'title' and 'steps'")
        self.no_unknown_keys(data, PLAN_KEYS, "")
        if "title" not in data:
            raise self.fail("title", "required: the game day's name")
        title = self.text(data["title"], "title")
        description = self.optional_text(data, "description", "description")
        profile, replicas = self.stack(data.get("stack"))
        raw_steps = data.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise self.fail("steps", "required, a non-empty list of steps")
        steps = tuple(self.step(index, raw) for index, raw in enumerate(raw_steps))
        return Plan(self.source, title, description, profile, replicas, steps)

    # ---------------------------------------------------------------- pieces

    def no_unknown_keys(self, data: dict[Any, Any], allowed: tuple[str, ...], where: str) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(where, f"unknown key '{key}' (allowed: {', '.join(allowed)})")

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "must be non-empty text")
        return value.strip()

    def optional_text(self, data: dict[str, Any], key: str, where: str) -> str:
        return self.text(data[key], where) if key in data else ""

    def profile(self, value: Any, where: str) -> str:
        if value not in self.profile_names:
            raise self.fail(
                where, f"unknown profile '{value}' (choose one of {', '.join(self.profile_names)})"
            )
        return str(value)

    def stack(self, value: Any) -> tuple[str, int]:
        if value is None:
            return DEFAULT_PROFILE, DEFAULT_REPLICAS
        if not isinstance(value, dict):
            raise self.fail("stack", "a mapping such as {profile: fixed, replicas: 2}")
        self.no_unknown_keys(value, STACK_KEYS, "stack")
        profile = self.profile(value.get("profile", DEFAULT_PROFILE), "stack.profile")
        replicas = value.get("replicas", DEFAULT_REPLICAS)
        if isinstance(replicas, bool) or not isinstance(replicas, int):
            replicas = -1
        if not 1 <= replicas <= MAX_REPLICAS:
            raise self.fail("stack.replicas", f"a whole number from 1 to {MAX_REPLICAS}")
        return profile, replicas

    def step(self, index: int, raw: Any) -> Step:
        where = f"steps[{index}]"
        if not isinstance(raw, dict):
            raise self.fail(where, "a step is a mapping such as {briefing: TEXT}")
        kinds = [key for key in raw if key in STEP_KINDS]
        if not kinds:
            raise self.fail(where, f"no step kind: use one of {', '.join(STEP_KINDS)}")
        if len(kinds) > 1:
            raise self.fail(where, f"more than one step kind ({', '.join(kinds)}): one per step")
        kind = kinds[0]
        self.no_unknown_keys(raw, (kind, *STEP_KINDS[kind]), where)
        title = self.optional_text(raw, "title", f"{where}.title")
        value = raw[kind]
        if kind == "experiment":
            return self.experiment_step(index, raw, title)
        if kind == "questions":
            questions = self.questions(value, f"{where}.questions")
            return Step(index, "question", title or _headline(questions[0]), questions=questions)
        if kind == "question":
            question = self.text(value, f"{where}.question")
            return Step(index, "question", title or _headline(question), questions=(question,))
        text = self.text(value, f"{where}.{kind}")
        return Step(index, kind, title or _headline(text), text=text)

    def questions(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(where, "a non-empty list of questions")
        return tuple(self.text(item, f"{where}[{n}]") for n, item in enumerate(value))

    def experiment_step(self, index: int, raw: dict[str, Any], title: str) -> Step:
        where = f"steps[{index}]"
        written = raw["experiment"]
        if not isinstance(written, str) or not written.strip():
            raise self.fail(f"{where}.experiment", "required, the path of an experiment file")
        written = written.strip()
        path = Path(os.path.normpath(self.base / written))  # an absolute path stays as is
        if not path.is_file():
            raise self.fail(f"{where}.experiment", f"{written} does not exist (looked for {path})")
        try:
            experiment = load_valid_experiment(str(path))
        except UserError as exc:
            raise self.fail(f"{where}.experiment", str(exc)) from exc
        profile = self.profile(raw["profile"], f"{where}.profile") if "profile" in raw else None
        experiment_title = str(experiment.get("title") or path.stem)
        return Step(
            index,
            "experiment",
            title or experiment_title,
            experiment=written,
            experiment_path=path,
            experiment_title=experiment_title,
            profile=profile,
        )
