"""The verdict of one experiment run, computed from its Chaos Toolkit journal.

`chaos run` exits 0 when the steady state was not met before the method or
when an action failed, so CI cannot use its exit code. The journal has what
is needed instead: its `status` (completed, failed, aborted, interrupted), the
`deviated` flag, the before/after/during hypothesis runs with each probe's
`tolerance_met`, and the `status` of every activity that ran (method and
rollbacks). The exit codes are DESIGN §4's:

    0 passed       the steady state held before and after the method
    1 deviated     a hypothesis probe ran but its value left the tolerance
    2 invalid      the experiment was rejected before it ran (`invalid_verdict`)
    3 not steady   the steady state was not met before the method, so nothing ran
    4 error        an injection, probe or rollback could not run at all, or the
                   safety control reports the stack was not restored
    5 interrupted  the run was stopped (Ctrl-C, SIGTERM) or never finished

When several apply the most fundamental wins: interrupted, then error (a
deviation measured after a failed injection proves nothing), then not steady,
then deviated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any

__all__ = ["ExitCode", "Verdict", "invalid_verdict", "verdict_from_journal"]

# How much of a probe's value or an error a one-line summary may carry.
SUMMARY_VALUE_CHARS = 80
SUMMARY_ERROR_CHARS = 160


class ExitCode(IntEnum):
    PASSED = 0
    DEVIATED = 1
    INVALID = 2
    NOT_STEADY = 3
    ERROR = 4
    INTERRUPTED = 5


STATUS_WORDS = {
    ExitCode.PASSED: "passed",
    ExitCode.DEVIATED: "deviated",
    ExitCode.INVALID: "invalid",
    ExitCode.NOT_STEADY: "not-steady",
    ExitCode.ERROR: "error",
    ExitCode.INTERRUPTED: "interrupted",
}


@dataclass(frozen=True)
class Verdict:
    """What happened, for people (`summary_line`) and machines (`code`, lists)."""

    code: int
    status_word: str
    summary_line: str
    # {probe, phase (before/after/during), tolerance, value}
    deviations: list[dict[str, Any]] = field(default_factory=list)
    # activities that could not run: {activity, type, phase, error}
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.code == ExitCode.PASSED

    def details(self) -> str:
        """Several lines: the summary, then every deviation and error in full."""
        lines = [self.summary_line]
        for deviation in self.deviations:
            lines.append(
                f"deviated: probe '{deviation['probe']}' ({deviation['phase']}): "
                f"value {_compact(deviation['value'], 0)}; "
                f"tolerance {_describe_tolerance(deviation['tolerance'])}"
            )
        for error in self.errors:
            lines.append(
                f"could not run: {error['type']} '{error['activity']}' ({error['phase']}): "
                f"{error['error']}"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def invalid_verdict(reason: str) -> Verdict:
    """The verdict for an experiment rejected before it ran (bad file, failed validation)."""
    return _verdict(ExitCode.INVALID, " ".join(reason.split()), [], [])


def verdict_from_journal(journal: Mapping[str, Any]) -> Verdict:
    """Judge a run from its journal (the dict `chaos run --journal-path` writes)."""
    if not isinstance(journal, Mapping):
        raise TypeError(f"a journal is a JSON object, not {type(journal).__name__}")
    states = journal.get("steady_states") or {}
    before, after = states.get("before"), states.get("after")
    during = [state for state in states.get("during") or [] if state]
    errors = _errors(journal, before, after, during)
    deviations = (
        _deviations(before, "before")
        + _deviations(after, "after")
        + [d for state in during for d in _deviations(state, "during")]
    )
    status = journal.get("status")

    if status not in ("completed", "failed", "aborted"):
        return _verdict(ExitCode.INTERRUPTED, _interrupted(journal), deviations, errors)
    if errors or status == "aborted":
        line = "could not run: " + (
            _first_and_more(errors, _describe_error)
            or "the method aborted on an unexpected error (see the chaostoolkit log)"
        )
        return _verdict(ExitCode.ERROR, line, deviations, errors)
    if before and before.get("steady_state_met") is False:
        line = "steady state not met before the method: " + _first_and_more(
            [d for d in deviations if d["phase"] == "before"], _describe_deviation
        )
        return _verdict(ExitCode.NOT_STEADY, line, deviations, errors)
    if deviations or journal.get("deviated"):
        line = _first_and_more(deviations, _describe_deviation) or "the journal says so"
        return _verdict(ExitCode.DEVIATED, line, deviations, errors)
    return _verdict(ExitCode.PASSED, _passed(journal, before, after), deviations, errors)


def _verdict(
    code: ExitCode, line: str, deviations: list[dict[str, Any]], errors: list[dict[str, Any]]
) -> Verdict:
    word = STATUS_WORDS[code]
    return Verdict(int(code), word, f"{word}: {line}", deviations, errors)


# --------------------------------------------------------------------------- reading


def _probe_runs(state: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not state:
        return []
    return [run for run in state.get("probes") or [] if isinstance(run, Mapping)]


def _deviations(state: Mapping[str, Any] | None, phase: str) -> list[dict[str, Any]]:
    """Probes that ran to completion but whose value was outside the tolerance."""
    found = []
    for run in _probe_runs(state):
        if run.get("status") == "succeeded" and run.get("tolerance_met") is False:
            activity = run.get("activity") or {}
            tolerance = activity.get("tolerance")
            found.append(
                {
                    "probe": str(activity.get("name", "?")),
                    "phase": phase,
                    "tolerance": tolerance,
                    "value": _judged_value(tolerance, run.get("output")),
                }
            )
    return found


def _judged_value(tolerance: Any, output: Any) -> Any:
    """The part of the output the tolerance looked at (its `target` key, if any)."""
    if isinstance(tolerance, Mapping) and isinstance(output, Mapping):
        target = tolerance.get("target")
        if target and target in output:
            return output[target]
    return output


def _errors(
    journal: Mapping[str, Any],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    during: list[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Activities whose provider raised (status "failed"), in the order they ran."""
    runs: list[tuple[str, Mapping[str, Any]]] = [("before", run) for run in _probe_runs(before)]
    runs += [("method", run) for run in journal.get("run") or []]
    runs += [("during", run) for state in during for run in _probe_runs(state)]
    runs += [("after", run) for run in _probe_runs(after)]
    runs += [("rollback", run) for run in journal.get("rollbacks") or []]
    errors = [
        {
            "activity": str((run.get("activity") or {}).get("name", "?")),
            "type": str((run.get("activity") or {}).get("type", "activity")),
            "phase": phase,
            "error": _error_text(run),
        }
        for phase, run in runs
        if isinstance(run, Mapping) and run.get("status") == "failed"
    ]
    return errors + _cleanup_errors(journal)


def _cleanup_errors(journal: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The safety control's report (hubchaos.controls.safety), when it says the stack is not clean.

    A run that leaves a toxic, a flood or extra connections behind broke
    its own promise, whatever the probes said.
    """
    safety = journal.get("hubchaos_safety")
    if not isinstance(safety, Mapping) or safety.get("clean") is not False:
        return []
    problems = [str(error) for error in safety.get("errors") or []]
    leftover = safety.get("leftover_connections")
    if isinstance(leftover, int) and leftover > 0:
        problems.append(f"{leftover} hubchaos connections still open")
    text = "; ".join(problems) or "the stack was not restored"
    return [{"activity": "hubchaos-safety", "type": "control", "phase": "cleanup", "error": text}]


def _error_text(run: Mapping[str, Any]) -> str:
    """The last line of the recorded exception, without chaoslib's wrapper prefix."""
    lines = [line.strip() for chunk in run.get("exception") or [] for line in chunk.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return "failed without an error message"
    text = lines[-1]
    prefix = "chaoslib.exceptions.ActivityFailed: "
    while text.startswith(prefix):
        text = text[len(prefix) :]
    return text


def _interrupted(journal: Mapping[str, Any]) -> str:
    if journal.get("status") is None:
        return "the run did not finish (no final status in the journal)"
    for phase, runs in (("method", journal.get("run")), ("rollbacks", journal.get("rollbacks"))):
        for run in runs or []:
            if isinstance(run, Mapping) and "status" not in run:
                activity = run.get("activity") or {}
                return (
                    f"stopped during {activity.get('type', 'activity')} "
                    f"'{activity.get('name', '?')}' ({phase})"
                )
    return "stopped before the run completed"


def _passed(
    journal: Mapping[str, Any], before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> str:
    probes = len(_probe_runs(before)) + len(_probe_runs(after))
    actions = len(journal.get("run") or [])
    if not before and not after:
        return f"no steady-state hypothesis to check; {actions} method activities ran"
    return (
        f"steady state met before and after the method "
        f"({probes} probe runs, {actions} method activities)"
    )


# --------------------------------------------------------------------------- wording


def _first_and_more(items: list[dict[str, Any]], describe: Callable[[dict[str, Any]], str]) -> str:
    if not items:
        return ""
    text = str(describe(items[0]))
    if len(items) > 1:
        names = ", ".join(f"'{_name_of(item)}'" for item in items[1:4])
        extra = f" (+{len(items) - 4} more)" if len(items) > 4 else ""
        text += f"; also {names}{extra}"
    return text


def _name_of(item: Mapping[str, Any]) -> str:
    return str(item.get("probe") or item.get("activity"))


def _describe_deviation(deviation: Mapping[str, Any]) -> str:
    return (
        f"probe '{deviation['probe']}' ({deviation['phase']}) "
        f"got {_compact(deviation['value'], SUMMARY_VALUE_CHARS)}, "
        f"expected {_describe_tolerance(deviation['tolerance'])}"
    )


def _describe_error(error: Mapping[str, Any]) -> str:
    text = error["error"]
    if len(text) > SUMMARY_ERROR_CHARS:
        text = text[: SUMMARY_ERROR_CHARS - 3] + "..."
    return f"{error['type']} '{error['activity']}' ({error['phase']}): {text}"


def _describe_tolerance(tolerance: Any) -> str:
    if isinstance(tolerance, Mapping):
        kind = tolerance.get("type")
        target = f" of '{tolerance['target']}'" if tolerance.get("target") else ""
        if kind == "range":
            low, high = tolerance.get("range", [None, None])
            return f"{low} <= value{target} <= {high}"
        if kind == "jsonpath":
            expect = f" == {_compact(tolerance['expect'], 40)}" if "expect" in tolerance else ""
            return f"jsonpath {tolerance.get('path')}{expect}"
        if kind == "regex":
            return f"value{target} matching /{tolerance.get('pattern')}/"
        if kind == "probe":
            provider = tolerance.get("provider") or {}
            func = provider.get("func") or tolerance.get("name")
            return f"tolerance probe {func} to accept it"
    if isinstance(tolerance, list) and len(tolerance) == 2:
        return f"value within {_compact(tolerance, 40)}"
    return _compact(tolerance, 40)


def _compact(value: Any, limit: int) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    if limit and len(text) > limit:
        text = text[: limit - 3] + "..."
    return text
