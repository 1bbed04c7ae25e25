"""The verdict, judged from real journals that chaoslib produced for small experiments."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import InvalidExperiment
from chaoslib.experiment import ensure_experiment_is_valid, run_experiment

from hubchaos.verdict import ExitCode, invalid_verdict, verdict_from_journal
from tests import test_verdict_activities as activities

HELPERS = "tests.test_verdict_activities"
REPO = Path(__file__).resolve().parents[1]


def _python(name: str, func: str, kind: str = "probe", **arguments: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "name": name,
        "provider": {"type": "python", "module": HELPERS, "func": func, "arguments": arguments},
    }


def _experiment(
    number_file: Path, method: list[dict[str, Any]], probes: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    steady = probes if probes is not None else [_number_probe(number_file)]
    return {
        "version": "1.0.0",
        "title": "verdict test",
        "description": "a real chaoslib run on a number in a file",
        "steady-state-hypothesis": {"title": "the number is small", "probes": steady},
        "method": method,
        "rollbacks": [],
    }


def _number_probe(number_file: Path, name: str = "number-is-small") -> dict[str, Any]:
    probe = _python(name, "read_number", path=str(number_file))
    probe["tolerance"] = [0, 10]
    return probe


def _write(number_file: Path, value: int, name: str = "raise-the-number") -> dict[str, Any]:
    return _python(name, "write_number", kind="action", path=str(number_file), value=value)


def _run(experiment: dict[str, Any]) -> dict[str, Any]:
    ensure_experiment_is_valid(experiment)
    journal: dict[str, Any] = run_experiment(experiment, settings={})
    # What CI reads is the JSON file, so judge what survives a round trip.
    return dict(json.loads(json.dumps(journal, default=str)))


@pytest.fixture
def number_file(tmp_path: Path) -> Path:
    path = tmp_path / "number"
    path.write_text("3")
    return path


def test_steady_state_held_is_passed(number_file: Path) -> None:
    journal = _run(_experiment(number_file, [_write(number_file, 5, "nudge-the-number")]))

    verdict = verdict_from_journal(journal)

    assert (verdict.code, verdict.status_word) == (0, "passed")
    assert verdict.deviations == [] and verdict.errors == []
    assert verdict.summary_line.startswith("passed: steady state met before and after")


def test_value_outside_tolerance_after_the_method_is_deviated(number_file: Path) -> None:
    journal = _run(_experiment(number_file, [_write(number_file, 50)]))
    assert journal["status"] == "completed" and journal["deviated"] is True

    verdict = verdict_from_journal(journal)

    assert (verdict.code, verdict.status_word) == (ExitCode.DEVIATED, "deviated")
    assert verdict.deviations == [
        {"probe": "number-is-small", "phase": "after", "tolerance": [0, 10], "value": 50}
    ]
    assert verdict.summary_line == (
        "deviated: probe 'number-is-small' (after) got 50, expected value within [0,10]"
    )
    assert "\n" not in verdict.summary_line


def test_range_tolerance_reports_the_targeted_value(number_file: Path) -> None:
    probe = _python("number-in-range", "read_number", path=str(number_file))
    probe["tolerance"] = {"type": "range", "range": [0, 10]}
    journal = _run(_experiment(number_file, [_write(number_file, 11)], [probe]))

    verdict = verdict_from_journal(journal)

    assert verdict.code == 1
    assert verdict.summary_line == (
        "deviated: probe 'number-in-range' (after) got 11, expected 0 <= value <= 10"
    )


def test_steady_state_not_met_before_the_method(number_file: Path) -> None:
    number_file.write_text("99")
    journal = _run(_experiment(number_file, [_write(number_file, 1)]))
    # chaoslib itself calls this "completed" and `chaos run` exits 0.
    assert journal["status"] == "completed" and journal["run"] == []

    verdict = verdict_from_journal(journal)

    assert (verdict.code, verdict.status_word) == (3, "not-steady")
    assert verdict.deviations[0]["phase"] == "before"
    assert verdict.summary_line == (
        "not-steady: steady state not met before the method: "
        "probe 'number-is-small' (before) got 99, expected value within [0,10]"
    )


def test_probe_that_raises_before_the_method_is_an_error(number_file: Path) -> None:
    probes = [_python("reach-prometheus", "broken_probe", message="connection refused")]
    probes[0]["tolerance"] = True
    journal = _run(_experiment(number_file, [_write(number_file, 1)], probes))

    verdict = verdict_from_journal(journal)

    assert (verdict.code, verdict.status_word) == (4, "error")
    assert verdict.deviations == []
    assert verdict.errors == [
        {
            "activity": "reach-prometheus",
            "type": "probe",
            "phase": "before",
            "error": "ConnectionError: connection refused",
        }
    ]
    assert verdict.summary_line == (
        "error: could not run: probe 'reach-prometheus' (before): "
        "ConnectionError: connection refused"
    )


def test_failed_injection_wins_over_a_deviation(number_file: Path) -> None:
    method = [
        _python("add-latency", "broken_probe", kind="action", message="toxiproxy unreachable"),
        _write(number_file, 50),
    ]
    journal = _run(_experiment(number_file, method))
    # chaoslib carries on after a failed action and records the deviation too.
    assert journal["deviated"] is True

    verdict = verdict_from_journal(journal)

    assert verdict.code == 4
    assert verdict.summary_line.startswith(
        "error: could not run: action 'add-latency' (method): ConnectionError: toxiproxy"
    )
    assert [d["probe"] for d in verdict.deviations] == ["number-is-small"]
    assert "deviated: probe 'number-is-small' (after)" in verdict.details()


def test_probe_that_raises_after_the_method_is_an_error(number_file: Path) -> None:
    # The method leaves something the probe cannot read as a number.
    method = [_python("garble", "write_number", kind="action", path=str(number_file), value="?")]
    journal = _run(_experiment(number_file, method))

    verdict = verdict_from_journal(journal)

    assert verdict.code == 4
    assert verdict.errors == [
        {
            "activity": "number-is-small",
            "type": "probe",
            "phase": "after",
            "error": "ValueError: invalid literal for int() with base 10: '?'",
        }
    ]


def test_failed_rollback_is_an_error(number_file: Path) -> None:
    experiment = _experiment(number_file, [_write(number_file, 4)])
    experiment["rollbacks"] = [
        _python("remove-latency", "broken_probe", kind="action", message="toxic stuck")
    ]
    journal = _run(experiment)

    verdict = verdict_from_journal(journal)

    assert verdict.code == 4
    assert verdict.summary_line == (
        "error: could not run: action 'remove-latency' (rollback): ConnectionError: toxic stuck"
    )


@pytest.mark.parametrize(
    ("report", "code", "summary"),
    [
        ({"clean": True, "errors": [], "leftover_connections": 0}, 0, "passed: steady state met"),
        (
            {"clean": False, "errors": ["removing toxics: timeout"], "leftover_connections": 2},
            4,
            "error: could not run: control 'hubchaos-safety' (cleanup): "
            "removing toxics: timeout; 2 hubchaos connections still open",
        ),
    ],
)
def test_safety_report_in_the_journal_is_judged(
    number_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    report: dict[str, Any],
    code: int,
    summary: str,
) -> None:
    monkeypatch.setattr(activities, "SAFETY_REPORT", report)
    experiment = _experiment(number_file, [_write(number_file, 4)])
    experiment["controls"] = [
        {"name": "hubchaos-safety", "provider": {"type": "python", "module": HELPERS}}
    ]
    journal = _run(experiment)
    assert journal["hubchaos_safety"] == report

    verdict = verdict_from_journal(journal)

    assert verdict.code == code
    assert verdict.summary_line.startswith(summary)


def test_invalid_experiment_verdict_names_the_rule() -> None:
    with pytest.raises(InvalidExperiment) as rejected:
        ensure_experiment_is_valid({"title": "no method", "description": "d"})

    verdict = invalid_verdict(f"experiments/x.yaml: {rejected.value}")

    assert (verdict.code, verdict.status_word) == (2, "invalid")
    assert verdict.summary_line.startswith("invalid: experiments/x.yaml: ")
    assert "method" in verdict.summary_line


def test_sigint_during_the_method_is_interrupted(number_file: Path, tmp_path: Path) -> None:
    marker = tmp_path / "sleeping"
    sleep = _python("hold-the-fault", "sleep_with_marker", kind="action")
    sleep["provider"]["arguments"] = {"marker": str(marker), "seconds": 20}
    experiment_file = tmp_path / "experiment.json"
    experiment_file.write_text(json.dumps(_experiment(number_file, [sleep])))
    settings = tmp_path / "settings.yaml"
    settings.write_text("{}\n")
    journal_path = tmp_path / "journal.json"
    command = [
        sys.executable, "-m", "chaostoolkit", "--no-version-check", "--no-log-file",
        "--settings", str(settings),
        "run", "--journal-path", str(journal_path), str(experiment_file),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the sleeping action never started"
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        # Interrupted, not slept out: well under the action's 20 s.
        assert time.monotonic() - started < 15
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()

    journal = json.loads(journal_path.read_text())
    assert journal["status"] == "interrupted"

    verdict = verdict_from_journal(journal)

    assert (verdict.code, verdict.status_word) == (5, "interrupted")
    assert verdict.summary_line == "interrupted: stopped during action 'hold-the-fault' (method)"


def test_unfinished_journal_is_interrupted() -> None:
    # What a crashed runner could leave: chaoslib's initial journal, never completed.
    verdict = verdict_from_journal(
        {"status": None, "deviated": False, "steady_states": {}, "run": [], "rollbacks": []}
    )
    assert verdict.code == 5
    assert "did not finish" in verdict.summary_line


def test_verdict_is_json_serialisable(number_file: Path) -> None:
    journal = _run(_experiment(number_file, [_write(number_file, 50)]))
    data = json.loads(json.dumps(verdict_from_journal(journal).to_dict()))
    assert data["code"] == 1 and data["deviations"][0]["value"] == 50


def test_a_journal_must_be_an_object() -> None:
    with pytest.raises(TypeError, match="JSON object"):
        verdict_from_journal([])  # type: ignore[arg-type]
