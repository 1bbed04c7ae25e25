"""A real local stack keeps its secrets: private state directory and files, its own random
password (the documented `hubchaos` one no longer logs in), and plain `chaos run` works
after `eval "$(hubchaos env)"`."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml

from hubchaos.stack.credentials import PASSWORD_FILE
from hubchaos.stack.local import LocalStack
from hubchaos.stack.state import StackState
from tests.stack.conftest import assert_nothing_left, free_port_offset

pytestmark = [pytest.mark.stack, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackState]:
    state_dir = tmp_path_factory.mktemp("secrets") / "state"
    offset = free_port_offset()
    api = LocalStack(state_dir, port_offset=offset)
    try:
        yield api.up(profile="fixed", replicas=1, toxiproxy="embedded")
    finally:
        records = api.table.records()
        api.down(purge=True)
        assert_nothing_left(state_dir, offset, records)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_directory_and_files_are_private(stack: StackState) -> None:
    state_dir = Path(stack.state_dir)
    assert _mode(state_dir) & 0o066 == 0  # 0700, or 0711 when root lets postgres traverse it
    assert _mode(state_dir / "stack.json") == 0o600
    assert _mode(state_dir / PASSWORD_FILE) == 0o600


def test_the_stack_logs_in_with_its_own_password_only(stack: StackState) -> None:
    password = (Path(stack.state_dir) / PASSWORD_FILE).read_text().strip()
    assert password != "hubchaos" and f":{password}@" in stack.db_dsn
    with psycopg.connect(stack.db_dsn, connect_timeout=5) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'hubchaos'").fetchone()
    documented = stack.db_dsn.replace(f":{password}@", ":hubchaos@")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(documented, connect_timeout=5)
    data = json.loads((Path(stack.state_dir) / "stack.json").read_text())
    assert data["experiment_env"]["HUBCHAOS_DB_DSN"] == stack.db_dsn


def _login_experiment(path: Path, default_dsn: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "version": "1.0.0",
                "title": "The observer can log in",
                "description": "Plain chaos run against the stack's own password.",
                "configuration": {
                    "hubchaos_db_dsn": {
                        "type": "env", "key": "HUBCHAOS_DB_DSN", "default": default_dsn,
                    }
                },
                "steady-state-hypothesis": {
                    "title": "superuser login works",
                    "probes": [{
                        "type": "probe", "name": "superuser-login",
                        "tolerance": {"type": "jsonpath", "path": "$.ok", "expect": True},
                        "provider": {
                            "type": "python", "module": "hubchaos.probes.postgres",
                            "func": "can_login", "arguments": {"dsn": "${hubchaos_db_dsn}"},
                        },
                    }],
                },
                "method": [],
            }
        )
    )  # fmt: skip
    return path


def _chaos_run(script: str, cwd: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBCHAOS_")}
    result = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=180, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    journal: dict[str, object] = json.loads((cwd / "journal.json").read_text())
    return journal


def test_plain_chaos_run_works_after_hubchaos_env_and_not_with_the_old_password(
    stack: StackState, tmp_path: Path
) -> None:
    password = (Path(stack.state_dir) / PASSWORD_FILE).read_text().strip()
    old_default = stack.db_dsn.replace(f":{password}@", ":hubchaos@")
    experiment = _login_experiment(tmp_path / "login.yaml", old_default)
    chaos = "chaos --no-log-file run"
    run = f"{chaos} {experiment} --journal-path journal.json"

    broken = _chaos_run(run, tmp_path)  # the documented fixed password: refused
    assert broken["steady_states"]["before"]["steady_state_met"] is False  # type: ignore[index]

    hubchaos = f"{shlex.quote(sys.executable)} -m hubchaos env --state-dir {stack.state_dir}"
    fixed = _chaos_run(f'eval "$({hubchaos})" && {run}', tmp_path)
    assert fixed["status"] == "completed", fixed["status"]
    assert fixed["steady_states"]["before"]["steady_state_met"] is True  # type: ignore[index]


def test_up_prints_the_endpoints_with_passwords_masked(
    stack: StackState, capsys: pytest.CaptureFixture[str]
) -> None:
    from hubchaos.stack.cli import _print_endpoints  # what `hubchaos up` prints

    password = (Path(stack.state_dir) / PASSWORD_FILE).read_text().strip()
    _print_endpoints(stack)
    out = capsys.readouterr().out
    assert password not in out
    assert "postgresql://hubchaos:***@127.0.0.1:" in out
