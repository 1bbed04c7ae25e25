"""The real local stack: every part healthy, the proxies in the path, the profiles under a flood.

One stack for the whole module (CI has 2 cores): it starts with the `fixed`
profile, is flooded, switched to `incident`, flooded again, and torn down at
the end, where `down` must leave nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from hubchaos.errors import UserError
from hubchaos.stack.credentials import superuser_password
from hubchaos.stack.local import LocalStack
from hubchaos.stack.local.processes import ProcessRecord
from hubchaos.stack.state import StackState
from tests.stack.conftest import REPO, assert_nothing_left, free_port_offset, run_cli

pytestmark = [pytest.mark.stack, pytest.mark.slow]

STALL_S = 8.0  # how long the database is stalled during a flood
FLOOD_CONCURRENCY = 300
TOLERANCE_S = 2.0  # scheduling noise on a busy 2-core machine


@dataclass
class Stack:
    api: LocalStack
    offset: int
    progress: list[str]
    records: list[ProcessRecord] = field(default_factory=list)

    @property
    def state(self) -> StackState:
        state = self.api.state()
        assert state is not None
        return state


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state_dir = tmp_path_factory.mktemp("stack") / "state"
    offset = free_port_offset()
    progress: list[str] = []
    api = LocalStack(state_dir, port_offset=offset, progress=progress.append)
    try:
        api.up(profile="fixed", replicas=2, toxiproxy="embedded")
        yield Stack(api, offset, progress)
    finally:
        records = api.table.records()
        report = api.down(purge=True)
        assert report.busy_ports == {}
        assert_nothing_left(state_dir, offset, records)


def test_every_part_is_healthy_and_stack_json_lists_the_endpoints(stack: Stack) -> None:
    status = stack.api.status()
    assert status.healthy, [p for p in status.parts if p.state != "healthy"]
    names = {part.name for part in status.parts}
    assert names == {
        "postgres", "toxiproxy", "receiver", "alertmanager", "prometheus", "exporter",
        "app-1", "app-2", "hub_db proxy", "hub_web proxy",
    }  # fmt: skip

    data = json.loads((stack.api.state_dir / "stack.json").read_text())
    port = {name: value + stack.offset for name, value in {
        "toxiproxy": 8474, "postgres": 15432, "hub_db": 15433, "hub_web": 18000,
        "prometheus": 19090, "alertmanager": 19093, "receiver": 19095, "exporter": 19187,
    }.items()}  # fmt: skip
    assert data["toxiproxy_url"] == f"http://127.0.0.1:{port['toxiproxy']}"
    assert data["app_url"] == f"http://127.0.0.1:{port['hub_web']}"
    assert data["app_replica_urls"] == [
        f"http://127.0.0.1:{18001 + stack.offset}",
        f"http://127.0.0.1:{18002 + stack.offset}",
    ]
    password = superuser_password(stack.api.state_dir)  # the stack's own, not "hubchaos"
    assert data["db_dsn"] == (
        f"postgresql://hubchaos:{password}@127.0.0.1:{port['postgres']}/learninghub"
    )
    assert data["app_db_dsn"] == (
        f"postgresql://learninghub:learninghub@127.0.0.1:{port['hub_db']}/learninghub"
    )
    assert data["prometheus_url"] == f"http://127.0.0.1:{port['prometheus']}"
    assert data["alertmanager_url"] == f"http://127.0.0.1:{port['alertmanager']}"
    assert data["receiver_url"] == f"http://127.0.0.1:{port['receiver']}"
    assert data["exporter_url"] == f"http://127.0.0.1:{port['exporter']}"
    assert data["profile"] == "fixed"
    assert data["replicas"] == 2
    assert data["toxiproxy"]["kind"] == "embedded"
    assert data["budget"]["app_budget"] == 50
    assert data["budget"]["pool_max_per_replica"] == 20
    assert data["experiment_env"]["HUBCHAOS_APP_URL"] == data["app_url"]
    assert set(data["pids"]) == {
        "postgres", "toxiproxy", "receiver", "alertmanager", "prometheus", "exporter",
        "app-1", "app-2",
    }  # fmt: skip
    for name, log in data["logs"].items():
        assert Path(log).is_file(), name
    assert any(re.match(r"waiting for prometheus \.\.\. ready in \d+\.\ds", line)
               for line in stack.progress)  # fmt: skip


def test_replicas_reach_postgres_only_through_the_hub_db_proxy(stack: Stack) -> None:
    state = stack.state
    toxiproxy_pid = state.pids["toxiproxy"]
    with httpx.Client(timeout=10) as client:
        for url in state.app_replica_urls:
            assert client.get(f"{url}/students/7/dashboard").status_code == 200
    with psycopg.connect(state.db_dsn, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT application_name, client_port FROM pg_stat_activity "
            "WHERE usename = 'learninghub'"
        ).fetchall()
        limit = conn.execute(
            "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'learninghub'"
        ).fetchone()
    assert {name for name, _ in rows} == {"learninghub-app-1", "learninghub-app-2"}
    # Each app session's client socket on the PostgreSQL side belongs to the proxy process.
    owners = {_owner_of_local_port(port) for _, port in rows}
    assert owners == {toxiproxy_pid}
    assert limit == (50,)  # the fixed profile's role CONNECTION LIMIT = the app budget


def test_prometheus_scrapes_every_part(stack: Stack) -> None:
    state = stack.state
    _eventually(lambda: set(_target_health(state).values()) == {"up"}, within_s=20)
    health = _target_health(state)
    expected = {
        f"{url}/metrics"
        for url in [
            *state.app_replica_urls,
            state.exporter_url,
            state.toxiproxy_url,
            state.alertmanager_url,
        ]
    }
    assert set(health) == expected  # fmt: skip
    assert set(health.values()) == {"up"}


def test_cli_status_reports_every_part_healthy(stack: Stack) -> None:
    result = run_cli("status", "--state-dir", str(stack.api.state_dir), cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("profile fixed, 2 replicas")
    parts = [line for line in lines[1:] if not line.startswith("faults:")]
    assert parts and all(" healthy " in line for line in parts), result.stdout
    assert "faults: none" in result.stdout, result.stdout


def test_a_second_up_with_other_settings_is_refused(stack: Stack) -> None:
    assert stack.api.up(profile="fixed", replicas=2, toxiproxy="embedded") == stack.state
    already = r"a stack is already running from .*, with profile fixed, 2 replicas"
    with pytest.raises(UserError, match=already):
        stack.api.up(profile="incident", replicas=2, toxiproxy="embedded")
    assert stack.api.status().healthy


# --------------------------------------------------------------- the two profiles


@dataclass
class Flood:
    load: dict[str, Any]  # summary written by tests/stack/load.py
    app_connections: list[int]  # pg_stat_activity count of the app role, sampled
    observer_ok: int
    observer_refusals: list[str]
    probe: list[tuple[int, float]]  # (status, seconds) of sequential requests via hub_web


def flood_with_stalled_database(state: StackState, out_dir: Path) -> Flood:
    """300 concurrent dashboard clients while the database stalls for STALL_S.

    A superuser holds an exclusive lock on `students` (every dashboard query
    needs it), so requests hold their connections: the pools are pushed to
    their limits the way a slow database pushed them on 2024-01-15. Bounded:
    the load stops after STALL_S, every request times out after 20 s.
    """
    out = out_dir / "load.json"
    with psycopg.connect(state.db_dsn, connect_timeout=5) as locker:
        locker.execute("LOCK TABLE students IN ACCESS EXCLUSIVE MODE")
        stall_ends = time.monotonic() + STALL_S
        load = subprocess.Popen(
            [
                sys.executable, "-m", "tests.stack.load", state.app_url,
                *state.app_replica_urls[1:], "--concurrency", str(FLOOD_CONCURRENCY),
                "--duration", str(STALL_S), "--timeout", "20", "--out", str(out),
            ],
            cwd=REPO,
        )  # fmt: skip
        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                probe = pool.submit(_probe_requests, state.app_url, stall_ends - 0.5)
                try:
                    samples, ok, refusals = _sample_database(state, stall_ends)
                finally:
                    locker.rollback()  # the stall ends; queued queries drain
                probed = probe.result(timeout=60)
        finally:
            try:
                load.wait(timeout=60)
            except subprocess.TimeoutExpired:
                load.kill()
                load.wait()
    assert load.returncode == 0
    return Flood(json.loads(out.read_text()), samples, ok, refusals, probed)


def _probe_requests(app_url: str, until: float) -> list[tuple[int, float]]:
    results: list[tuple[int, float]] = []
    with httpx.Client(timeout=25) as client:
        while time.monotonic() < until and len(results) < 50:
            started = time.monotonic()
            response = client.get(f"{app_url}/students/42/dashboard")
            results.append((response.status_code, time.monotonic() - started))
    return results


def _sample_database(state: StackState, until: float) -> tuple[list[int], int, list[str]]:
    samples: list[int] = []
    ok = 0
    refusals: list[str] = []
    with psycopg.connect(state.db_dsn, connect_timeout=5, autocommit=True) as observer:
        while time.monotonic() < until:
            row = observer.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = 'learninghub'"
            ).fetchone()
            samples.append(int(row[0]) if row else 0)
            try:  # a non-superuser login, like a probe or a human with psql
                with psycopg.connect(state.observer_dsn, connect_timeout=3) as probe:
                    probe.execute("SELECT 1")
                ok += 1
            except psycopg.OperationalError as exc:
                refusals.append(str(exc).strip().splitlines()[-1])
            time.sleep(0.3)
    return samples, ok, refusals


def test_fixed_profile_answers_fast_503s_and_stays_within_budget(
    stack: Stack, tmp_path: Path
) -> None:
    state = stack.state
    budget = state.budget
    flood = flood_with_stalled_database(state, tmp_path)

    statuses = flood.load["statuses"]
    assert statuses.get("503", 0) > 100, flood.load
    assert flood.load["retry_after"] == statuses["503"]  # every 503 says when to retry
    # The queue is bounded and the timeouts are short: a stalled database means a
    # prompt 503 (pool timeout or statement timeout), never a hang.
    bound = budget["pool_timeout_s"] + budget["statement_timeout_ms"] / 1000 + TOLERANCE_S
    # While the stall lasts every answer is a 503 (the last probe may straddle its end).
    assert flood.probe and flood.probe[0][0] == 503
    assert {status for status, _ in flood.probe} <= {503, 200}
    assert max(seconds for _, seconds in flood.probe) < bound, flood.probe
    assert flood.load["latency"]["503"]["p50"] < bound, flood.load

    assert max(flood.app_connections) <= budget["app_connections_max"] <= budget["app_budget"]
    assert max(flood.app_connections) >= budget["app_connections_max"] - 2  # really saturated
    assert flood.observer_refusals == []
    assert flood.observer_ok > 5
    assert "53300" not in Path(state.logs["postgres"]).read_text()


def test_switching_to_incident_restarts_replicas_without_a_role_limit(stack: Stack) -> None:
    before = stack.state.pids
    state = stack.api.set_profile("incident")
    assert state.profile == "incident"
    assert state.budget["pool_max_per_replica"] == 100
    assert state.pids["app-1"] != before["app-1"]
    assert state.pids["prometheus"] == before["prometheus"]
    with psycopg.connect(state.db_dsn, connect_timeout=5) as conn:
        limit = conn.execute(
            "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'learninghub'"
        ).fetchone()
    assert limit == (-1,)
    assert stack.api.status().healthy


def test_incident_profile_makes_postgres_refuse_logins(stack: Stack, tmp_path: Path) -> None:
    state = stack.state
    assert state.profile == "incident"
    flood = flood_with_stalled_database(state, tmp_path)

    # The pools grew past the budget until PostgreSQL refused ordinary logins:
    # the app's own new connections and the observer's probe alike (SQLSTATE 53300).
    assert max(flood.app_connections) > state.budget["app_budget"], flood.app_connections
    assert flood.observer_refusals, "a non-superuser login should have been refused"
    assert all(
        "too many clients already" in refusal or "reserved for non-replication superuser" in refusal
        for refusal in flood.observer_refusals
    ), flood.observer_refusals
    log = Path(state.logs["postgres"]).read_text()
    assert re.search(r" 53300 learninghub@learninghub .*FATAL", log)
    assert re.search(r" 53300 hubchaos_observer@learninghub .*FATAL", log)
    # With a 30 s pool timeout and an unbounded queue, requests hang for the whole stall.
    assert flood.probe and flood.probe[0][1] > STALL_S - 1.5, flood.probe
    assert flood.load["retry_after"] < flood.load["statuses"].get("200", 0)


def test_scale_and_restart_keep_the_stack_healthy(stack: Stack) -> None:
    stack.api.set_profile("fixed")
    state = stack.api.scale(3)
    assert state.replicas == 3
    assert state.budget["pool_max_per_replica"] == 15  # floor(50 / 3) - 1 health check
    assert len(state.app_replica_urls) == 3
    # Prometheus was told to reload: it scrapes the new replica.
    third = f"{state.app_replica_urls[2]}/metrics"
    assert _eventually(lambda: _target_health(state).get(third) == "up", within_s=20)

    # A replica that dies shows as down (status exit 1) until it is restarted.
    os.kill(state.pids["app-3"], signal.SIGKILL)
    time.sleep(0.3)
    down = {p.name: p.state for p in stack.api.status().parts if p.state != "healthy"}
    assert down == {"app-3": "down"}
    result = run_cli("status", "--state-dir", str(stack.api.state_dir), cwd=REPO)
    assert result.returncode == 1
    assert re.search(r"^app-3 +down ", result.stdout, re.MULTILINE), result.stdout
    state = stack.api.restart("app-3")

    old_proxy = state.pids["toxiproxy"]
    state = stack.api.restart("toxiproxy")
    assert state.pids["toxiproxy"] != old_proxy
    # Connections through the old proxy process broke; the pools replace them.
    assert _eventually_ok(f"{state.app_url}/students/3/dashboard", within_s=15)
    with pytest.raises(UserError, match="unknown component 'nginx'"):
        stack.api.restart("nginx")
    assert stack.api.status().healthy


def _eventually(condition: Callable[[], bool], within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def _eventually_ok(url: str, within_s: float) -> bool:
    return _eventually(lambda: httpx.get(url, timeout=10).status_code == 200, within_s)


def _target_health(state: StackState) -> dict[str, str]:
    targets = httpx.get(f"{state.prometheus_url}/api/v1/targets", timeout=5).json()
    return {t["scrapeUrl"]: t["health"] for t in targets["data"]["activeTargets"]}


def _owner_of_local_port(port: int) -> int | None:
    """Pid of the process owning the established TCP socket with local port `port`."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
            inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = {str(fd.readlink()) for fd in (entry / "fd").iterdir()}
        except OSError:
            continue
        if links & inodes:
            return int(entry.name)
    return None
