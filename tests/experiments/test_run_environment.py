"""`hubchaos run` against a running stack: its variables are exported before experiments are
validated, and activity libraries' DEBUG lines appear only with `--verbose`.

The experiment is shaped like a published one: chaostoolkit-toxiproxy's own probe,
its proxy URL from an `env` configuration key with no default.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.experiments.conftest import REPO, HubStack

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXPERIMENT = """\
version: 1.0.0
title: The database proxy is there
description: chaostoolkit-toxiproxy's probe, its URL only from the environment.
configuration:
  toxiproxy_url: {type: env, key: HUBCHAOS_TOXIPROXY_URL}
steady-state-hypothesis:
  title: the database proxy exists
  probes:
    - name: hub-db-proxy-exists
      type: probe
      tolerance: true
      provider:
        type: python
        module: chaostoxi.proxy.probes
        func: proxy_exist
        arguments: {proxy_name: hub_db}
method:
  - name: read-the-proxy-again
    type: probe
    provider:
      type: python
      module: chaostoxi.proxy.probes
      func: proxy_exist
      arguments: {proxy_name: hub_db}
"""
DEBUG_LINE = "Calculated toxiproxy URL is: "


def _run(
    experiment: Path, state_dir: Path, offset: int, *extra: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBCHAOS_")}
    return subprocess.run(
        [sys.executable, "-m", "hubchaos", "run", str(experiment), "--state-dir", str(state_dir),
         "--no-start", "--plain", "--report", str(experiment.parent / "out"), *extra],
        cwd=REPO,
        env={**env, "HUBCHAOS_PORT_OFFSET": str(offset)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    path = tmp_path / "proxy-is-there.yaml"
    path.write_text(EXPERIMENT)
    return path


def test_an_env_key_without_default_is_valid_once_the_stack_is_up(
    hub_stack: HubStack, experiment: Path
) -> None:
    result = _run(experiment, hub_stack.state_dir, hub_stack.offset)
    assert result.returncode == 0, result.stderr
    assert "passed: steady state met" in result.stderr


def test_without_a_stack_the_same_key_is_named_as_missing(experiment: Path, tmp_path: Path) -> None:
    result = _run(experiment, tmp_path / "no-stack", 0)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"hubchaos: error: {experiment}: invalid experiment: Configuration makes reference to "
        "an environment key that does not exist: HUBCHAOS_TOXIPROXY_URL"
    ]
    assert not (tmp_path / "no-stack").exists()  # nothing was started


def test_library_debug_lines_only_with_verbose(hub_stack: HubStack, experiment: Path) -> None:
    plain = _run(experiment, hub_stack.state_dir, hub_stack.offset)
    assert plain.returncode == 0, plain.stderr
    assert DEBUG_LINE not in plain.stderr + plain.stdout
    assert "[D " not in plain.stderr + plain.stdout

    verbose = _run(experiment, hub_stack.state_dir, hub_stack.offset, "--verbose")
    assert verbose.returncode == 0, verbose.stderr
    # once per probe run: before, method, after
    assert verbose.stderr.count(DEBUG_LINE) == 3, verbose.stderr
    assert f"{DEBUG_LINE}{hub_stack.stack.state().experiment_env()['HUBCHAOS_TOXIPROXY_URL']}" in (
        verbose.stderr
    )
