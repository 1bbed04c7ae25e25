"""Helpers of the fault matrix: start `hubchaos run` on the session's stack, read
the stack's state from the servers themselves (Toxiproxy, PostgreSQL, /proc)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.experiments.conftest import REPO, HubStack

DATA = Path(__file__).parent / "data"
LEASE_LIMIT_S = 15.0
OWN_CONNECTIONS_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'hubchaos-%'"
    " AND pid <> pg_backend_pid()"
)


def start_run(hub: HubStack, fixture: str, out_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hubchaos", "run", str(DATA / fixture),
         "--state-dir", str(hub.state_dir), "--no-start", "--plain", "--report", str(out_dir)],
        cwd=REPO,
        env={**os.environ, "HUBCHAOS_PORT_OFFSET": str(hub.offset)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def server_faults(hub: HubStack) -> dict[str, Any]:
    """Toxics and disabled proxies as the Toxiproxy server reports them."""
    state = hub.stack.state()
    assert state is not None
    proxies = httpx.get(f"{state.toxiproxy_url}/proxies", timeout=5).json()
    return {
        name: {"enabled": p["enabled"], "toxics": sorted(t["name"] for t in p["toxics"])}
        for name, p in proxies.items()
        if p["toxics"] or not p["enabled"]
    }


def own_connections(hub: HubStack) -> int:
    state = hub.stack.state()
    assert state is not None
    with psycopg.connect(state.db_dsn, connect_timeout=5, application_name="test-observer") as c:
        row = c.execute(OWN_CONNECTIONS_SQL).fetchone()
    return int(row[0]) if row else -1


def run_processes(hub: HubStack) -> list[int]:
    """Processes of a run on this stack (the runner, its watchdog), found by command line."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ours = "hubchaos.ledger" in cmdline or " run " in cmdline
        if ours and str(hub.state_dir) in cmdline and int(proc.name) != os.getpid():
            found.append(int(proc.name))
    return found


def ledger_kinds(hub: HubStack) -> list[str]:
    kinds = []
    for path in sorted((hub.state_dir / "ledger").glob("fault-*.json")):
        try:
            kinds.append(json.loads(path.read_text())["kind"])
        except (OSError, ValueError):
            continue
    return kinds


def wait_until(condition: Callable[[], bool], seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if condition():
                return time.monotonic() - started
        except (httpx.HTTPError, psycopg.Error):
            pass
        time.sleep(0.1)
    return None


def at_baseline(hub: HubStack, profile: str = "fixed", replicas: int = 2) -> bool:
    state = hub.stack.state()
    return (
        state is not None
        and state.profile == profile
        and state.replicas == replicas
        and server_faults(hub) == {}
        and own_connections(hub) == 0
        and ledger_kinds(hub) == []
        and run_processes(hub) == []
    )


def describe(hub: HubStack) -> str:
    state = hub.stack.state()
    return (
        f"profile={state and state.profile} replicas={state and state.replicas} "
        f"faults={server_faults(hub)} own_connections={own_connections(hub)} "
        f"ledger={ledger_kinds(hub)} processes={run_processes(hub)}"
    )
