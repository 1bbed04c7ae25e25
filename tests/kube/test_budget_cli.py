"""`hubchaos budget`: the arithmetic, exit 0/1 for fits/does not fit, 2 for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hubchaos.cli import main
from hubchaos.stack.profiles import default_profiles_path
from tests.kube.conftest import OVERLAYS, overlay_on, write


def budget(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code: object = 0
    try:
        main(["budget", *args])  # returns on success, exits otherwise
    except SystemExit as exited:
        code = exited.code
    out, err = capsys.readouterr()
    return (0 if code is None else int(str(code))), out, err


@pytest.mark.parametrize(
    ("target", "code", "total"),
    [
        (str(OVERLAYS / "fixed"), 0, "50 + 7 = 57 <= 57: fits"),
        (str(OVERLAYS / "fixed-offline"), 0, "50 + 7 = 57 <= 57: fits"),
        (str(OVERLAYS / "incident"), 1, "1010 + 7 = 1017 > 57: DOES NOT FIT (960 over)"),
        (str(OVERLAYS / "incident-offline"), 1, "1017 > 57: DOES NOT FIT"),
        ("fixed", 0, "42 + 7 = 49 <= 57: fits (8 spare)"),
        ("incident", 1, "202 + 7 = 209 > 57: DOES NOT FIT (152 over)"),
    ],
)
def test_fixed_fits_and_incident_does_not(
    capsys: pytest.CaptureFixture[str], target: str, code: int, total: str
) -> None:
    exit_code, out, err = budget(capsys, target)
    assert (exit_code, err) == (code, "")
    assert total in out


def test_the_overlay_arithmetic_is_printed_in_full(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = budget(capsys, str(OVERLAYS / "incident"))
    assert out.splitlines()[1:] == [
        "  app connections  10 replicas (HorizontalPodAutoscaler learninghub maxReplicas) "
        "x (pool max 100 + 1 health check) = 1010",
        "  observer slots   exporter 1 + observer role 6 = 7",
        "  postgres slots   max_connections 60 - superuser_reserved_connections 3 = 57",
        "  total            1010 + 7 = 1017 > 57: DOES NOT FIT (960 over)",
        "  role limit       none: PostgreSQL lets the app role take every slot",
        "  verdict          DOES NOT FIT: pool max <= 4 at 10 replicas",
    ]


def test_a_profiles_file_checks_every_profile_or_the_one_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = str(default_profiles_path())
    code, out, _ = budget(capsys, path)
    assert code == 1 and "profile fixed" in out and "profile incident" in out
    code, out, _ = budget(capsys, path, "--profile", "fixed", "--replicas", "20")
    # fixed re-derives its pools for 20 replicas: 20 x (1 + 1) = 40
    assert code == 0 and "20 replicas (--replicas) x (pool max 1 + 1 health check) = 40" in out
    code, out, _ = budget(capsys, "incident", "--replicas", "1")
    assert code == 1 and "at most 0" not in out and "pool max <= 49 at 1 replicas" in out


def test_raising_max_replicas_by_hand_is_caught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = overlay_on(
        tmp_path,
        "fixed",
        "patches:\n  - target: {kind: HorizontalPodAutoscaler, name: learninghub}\n"
        "    patch: '[{op: replace, path: /spec/maxReplicas, value: 6}]'\n",
    )
    code, out, _ = budget(capsys, str(mine))
    assert code == 1
    assert "60 + 7 = 67 > 57: DOES NOT FIT (10 over)" in out
    assert "60 > CONNECTION LIMIT 50: DOES NOT FIT" in out
    assert "at most 5 replicas at pool max 9" in out


def test_a_role_limit_below_the_pools_fails_even_when_the_slots_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = overlay_on(
        tmp_path,
        "fixed",
        "patches:\n  - target: {kind: Job, name: migrate}\n"
        "    patch: '[{op: replace, path: /spec/template/spec/containers/0/args/3, "
        'value: "40"}]\'\n',
    )
    code, out, _ = budget(capsys, str(mine))
    assert code == 1
    assert "57 <= 57: fits" in out and "50 > CONNECTION LIMIT 40: DOES NOT FIT" in out


def test_an_overlay_without_an_autoscaler_counts_the_deployment_replicas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = overlay_on(
        tmp_path,
        "fixed",
        "patches:\n  - target: {kind: HorizontalPodAutoscaler, name: learninghub}\n"
        "    patch: '[{op: replace, path: /spec/scaleTargetRef/name, value: other}]'\n"
        "  - target: {kind: Deployment, name: learninghub}\n"
        "    patch: '[{op: add, path: /spec/replicas, value: 3}]'\n",
    )
    code, out, _ = budget(capsys, str(mine))
    assert code == 0 and "3 replicas (Deployment learninghub replicas) x (pool max 9" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch"], "nosuch: not an overlay directory, a profiles file or a profile name"),
        (["nosuch", "--profile", "fixed"], "nosuch: no such overlay directory or profiles file"),
        ([str(OVERLAYS / "fixed"), "--replicas", "3"], "--profile and --replicas do not apply"),
        (["fixed", "--replicas", "0"], "--replicas must be between 1 and 20 (got 0)"),
        ([str(OVERLAYS.parent / "base")], "reads ConfigMap 'hub-role', which is missing"),
        ([str(OVERLAYS.parent)], "no kustomization.yaml in it"),
        ([str(default_profiles_path()), "--profile", "nope"], "unknown profile 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = budget(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("hubchaos: error: ") and message in err


def test_an_overlay_missing_a_number_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_pool = overlay_on(
        tmp_path,
        "fixed",
        "patches:\n  - target: {kind: Deployment, name: learninghub}\n"
        "    patch: '[{op: remove, path: /spec/template/spec/containers/0/envFrom}]'\n",
    )
    code, _, err = budget(capsys, str(bad_pool))
    assert code == 2 and "Deployment learninghub: LEARNINGHUB_POOL_MAX is not set" in err
    write(
        bad_pool / "kustomization.yaml",
        (bad_pool / "kustomization.yaml").read_text().replace("op: remove", "op: test"),
    )
    code, _, err = budget(capsys, str(bad_pool))
    assert code == 2 and "'value' is missing" in err


def test_a_non_numeric_setting_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = overlay_on(
        tmp_path,
        "fixed",
        "patches:\n  - target: {kind: StatefulSet, name: postgres}\n"
        "    patch: '[{op: replace, path: /spec/template/spec/containers/0/args/2, "
        "value: max_connections=lots}]'\n",
    )
    code, _, err = budget(capsys, str(mine))
    assert code == 2 and "max_connections is 'lots', not a whole number" in err


def test_the_installed_command_exits_with_the_verdict() -> None:
    for overlay, expected in (("fixed", 0), ("incident", 1)):
        result = subprocess.run(
            [sys.executable, "-m", "hubchaos", "budget", str(OVERLAYS / overlay)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == expected, result.stderr
        assert "verdict" in result.stdout


def test_the_overlays_kustomization_file_names_the_overlay(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = budget(capsys, str(OVERLAYS / "incident" / "kustomization.yaml"))
    assert code == 1 and out.startswith(f"overlay {OVERLAYS / 'incident'}")


def test_a_budget_profile_with_no_room_for_even_one_connection_each_does_not_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = default_profiles_path().read_text()
    small = text.replace("max_connections: 60", "max_connections: 30")
    path = write(tmp_path / "profiles.yaml", small)
    # app budget 30 - 3 - 7 = 20: ten replicas of pool 1 (+1 health check) fill it exactly
    code, out, _ = budget(capsys, str(path), "--profile", "fixed", "--replicas", "10")
    assert code == 0 and "10 replicas (--replicas) x (pool max 1 + 1 health check) = 20" in out
    code, out, _ = budget(capsys, str(path), "--profile", "fixed", "--replicas", "11")
    assert code == 1
    assert "11 replicas (--replicas) x (pool max 1 + 1 health check) = 22" in out
    assert "29 > 27: DOES NOT FIT (2 over)" in out
    assert "22 > CONNECTION LIMIT 20: DOES NOT FIT" in out
    assert "at most 10 replicas at pool max 1" in out
