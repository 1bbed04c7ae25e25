"""Secrets of a stack: a random superuser password per stack, kept 0600; the state
directory 0700; stack.json and journals 0600 with passwords masked in journals;
`hubchaos env` prepares a shell for plain `chaos run`."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hubchaos.private.files import private_dir, write_private
from hubchaos.private.journal import write_journal
from hubchaos.stack.credentials import PASSWORD_FILE, superuser_password
from hubchaos.stack.env_cli import shell_exports
from hubchaos.stack.local.postgres import PostgresCluster
from hubchaos.stack.state import StackState, write_state
from hubchaos.stack.state_lock import state_lock
from tests.conftest import free_port
from tests.stack.conftest import run_cli


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask: the modes must not depend on the user's."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_each_stack_gets_its_own_random_password_kept_0600(
    tmp_path: Path, open_umask: None
) -> None:
    first = superuser_password(tmp_path / "a")
    assert first == superuser_password(tmp_path / "a")  # made once, then kept
    second = superuser_password(tmp_path / "b")
    assert first != second and first != "hubchaos" and len(first) >= 32
    assert first.replace("-", "").replace("_", "").isalnum()  # fits a DSN unquoted
    assert _mode(tmp_path / "a" / PASSWORD_FILE) == 0o600
    assert _mode(tmp_path / "a") == 0o700


def test_a_cluster_made_before_random_passwords_keeps_its_password(tmp_path: Path) -> None:
    data = tmp_path / "postgres" / "data"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("15\n")
    assert superuser_password(tmp_path) == "hubchaos"


def test_state_dir_is_0700_and_stack_json_0600(tmp_path: Path, open_umask: None) -> None:
    state_dir = tmp_path / "state"
    with state_lock(state_dir):
        pass
    assert _mode(state_dir) == 0o700
    path = write_state(state_dir, _state(state_dir, "pw-1"))
    assert _mode(path) == 0o600
    leftover = state_dir / "stack.json"
    leftover.chmod(0o644)  # a stack.json from before: rewritten private
    write_state(state_dir, _state(state_dir, "pw-1"))
    assert _mode(leftover) == 0o600
    assert sorted(p.name for p in state_dir.iterdir()) == ["lock", "stack.json"]  # no temp file


def test_private_dir_tightens_an_open_directory_but_keeps_search_for_postgres(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "d"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    assert _mode(private_dir(directory)) == 0o711  # others may traverse, never list
    directory.chmod(0o777)
    assert _mode(private_dir(directory)) == 0o711
    directory.chmod(0o740)
    assert _mode(private_dir(directory)) == 0o700


def test_write_private_replaces_atomically(tmp_path: Path, open_umask: None) -> None:
    path = write_private(tmp_path / "f", "one")
    write_private(path, "two")
    assert path.read_text() == "two" and _mode(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_journals_are_0600_with_passwords_masked(tmp_path: Path, open_umask: None) -> None:
    journal = {
        "experiment": {"configuration": {"hubchaos_db_dsn": "postgresql://hubchaos:s3cr3t@h/db"}},
        "run": [{"output": {"dsn": "host=h password=s3cr3t dbname=x", "count": 3}}],
    }
    path = write_journal(tmp_path / "x.journal.json", journal)
    text = path.read_text()
    assert "s3cr3t" not in text and _mode(path) == 0o600
    written = json.loads(text)
    assert written["experiment"]["configuration"]["hubchaos_db_dsn"] == (
        "postgresql://hubchaos:***@h/db"
    )
    assert written["run"][0]["output"] == {"dsn": "host=h password=*** dbname=x", "count": 3}
    assert "s3cr3t" in journal["run"][0]["output"]["dsn"]  # the run's own copy stays whole


def test_a_cluster_accepts_its_random_password_only() -> None:
    # not under pytest's tmp_path: other pytest runs strip its search bits, which the
    # postgres user (when we are root) needs
    base = Path(tempfile.mkdtemp(prefix="hubchaos-secrets-"))
    password = superuser_password(base / "state")
    cluster = PostgresCluster(base_dir=base / "state" / "postgres", port=free_port(),
                              password=password)  # fmt: skip
    cluster.start()
    try:
        with psycopg.connect(cluster.dsn()) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("hubchaos",)
        fixed = cluster.dsn().replace(f"password={password}", "password=hubchaos")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(fixed)
        assert not (cluster.base_dir / "pwfile").exists()  # initdb's copy is gone
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


def _state(state_dir: Path, password: str) -> StackState:
    dsn = f"postgresql://hubchaos:{password}@127.0.0.1:15432/learninghub"
    return StackState(
        state_dir=str(state_dir), profile="fixed", replicas=1,
        toxiproxy_url="http://127.0.0.1:8474", app_url="http://127.0.0.1:18000",
        app_replica_urls=["http://127.0.0.1:18001"], db_dsn=dsn,
        app_db_dsn="postgresql://learninghub:learninghub@127.0.0.1:15433/learninghub",
        observer_dsn="postgresql://o:o@127.0.0.1:15432/learninghub",
        prometheus_url="http://127.0.0.1:19090", alertmanager_url="http://127.0.0.1:19093",
        receiver_url="http://127.0.0.1:19095", exporter_url="http://127.0.0.1:19187",
        ports={}, budget={}, toxiproxy={}, pids={}, processes={}, logs={},
        started_at="2026-01-01T00:00:00Z", port_offset=30,
    )  # fmt: skip


def test_hubchaos_env_prepares_a_shell_for_plain_chaos_run(tmp_path: Path) -> None:
    state_dir = private_dir(tmp_path / "state")
    write_state(state_dir, _state(state_dir, "it's $weird"))  # quoting must survive
    assert "export HUBCHAOS_PORT_OFFSET=30" in shell_exports(state_dir)
    script = (
        f'eval "$({sys.executable} -m hubchaos env --state-dir {state_dir})" && '
        'printf "%s\\n" "$HUBCHAOS_DB_DSN" "$HUBCHAOS_APP_URL" "$HUBCHAOS_STATE_DIR"'
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "postgresql://hubchaos:it's $weird@127.0.0.1:15432/learninghub",
        "http://127.0.0.1:18000",
        str(state_dir),
    ]


def test_hubchaos_env_without_a_stack_is_one_line(tmp_path: Path) -> None:
    result = run_cli("env", "--state-dir", str(tmp_path / "none"), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        f"hubchaos: error: no stack is recorded in {tmp_path / 'none'}: "
        "start one with `hubchaos up`"
    )
