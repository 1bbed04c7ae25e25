"""Ctrl-C or SIGTERM mid-method leaves no toxic, no flood connection, no extra DB connection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import psycopg
import pytest

from tests.experiments.conftest import REPO, HubStack

pytestmark = [pytest.mark.stack, pytest.mark.slow]

FIXTURE = REPO / "tests" / "experiments" / "data" / "interrupt-me.yaml"
OWN_CONNECTIONS_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'hubchaos-%'"
    " AND pid <> pg_backend_pid()"
)
NON_APP_CONNECTIONS_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
    " AND application_name NOT LIKE 'learninghub-app-%' AND pid <> pg_backend_pid()"
)


def _count(dsn: str, sql: str) -> int:
    with psycopg.connect(dsn, connect_timeout=5, application_name="test-observer") as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row else -1


def _toxics(toxiproxy_url: str) -> dict[str, list[str]]:
    proxies = httpx.get(f"{toxiproxy_url}/proxies", timeout=5).json()
    return {name: [t["name"] for t in p["toxics"]] for name, p in proxies.items() if p["toxics"]}


def _wait_until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_the_method_leaves_nothing_behind(
    hub_stack: HubStack, signum: signal.Signals
) -> None:
    hub_stack.use_profile("fixed")
    state = hub_stack.stack.state()
    assert state is not None
    baseline = _count(state.db_dsn, NON_APP_CONNECTIONS_SQL)
    run = subprocess.Popen(
        [sys.executable, "-m", "hubchaos", "run", str(FIXTURE),
         "--state-dir", str(hub_stack.state_dir), "--no-start"],
        cwd=REPO,
        env={**os.environ, "HUBCHAOS_PORT_OFFSET": str(hub_stack.offset)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        # the fault is really in place before we interrupt
        assert _wait_until(lambda: _count(state.db_dsn, OWN_CONNECTIONS_SQL) >= 20, 30)
        assert _toxics(state.toxiproxy_url) == {"hub_db": ["latency_downstream"]}
        run.send_signal(signum)
        _, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 5, stderr[-3000:]
    assert "interrupted" in stderr
    assert _toxics(state.toxiproxy_url) == {}
    assert _count(state.db_dsn, OWN_CONNECTIONS_SQL) == 0
    assert _count(state.db_dsn, NON_APP_CONNECTIONS_SQL) <= baseline
