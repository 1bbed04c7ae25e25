"""The hub stack as local processes: the embedded default behind `hubchaos up`.

`LocalStack` is also the Python API later code uses (experiments that switch
profile, scale out or restart a part mid-run). Everything lives in one state
directory (default `.hubchaos/`):

    stack.json          endpoints, ports, budget, pids (see state.StackState)
    postgres/           the private PostgreSQL cluster (kept by `down`, not by `down --purge`)
    logs/NAME.log       one log per part
    pids/NAME.json      pid, start time and argv of every process, written at spawn time
    prometheus/ alertmanager/ receiver/   rendered configs and their data

Start order: the parts without dependencies are spawned first and warm up
while PostgreSQL starts and the schema is migrated; then the proxies are
created, the exporter and app replicas spawned, and every part is awaited with
its own deadline. Any failure (or Ctrl-C / SIGTERM) stops everything that was
started before the error propagates.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from hubchaos.errors import UserError
from hubchaos.stack import parts
from hubchaos.stack.binaries import Binaries, check_executable, toxiproxy_server_on_path
from hubchaos.stack.credentials import superuser_password
from hubchaos.stack.database import StackDatabase
from hubchaos.stack.health import (
    PartStatus,
    StackStatus,
    collect_status,
    leftover_status,
    proxy_specs,
)
from hubchaos.stack.layout import Layout
from hubchaos.stack.monitoring_files import write_monitoring_configs
from hubchaos.stack.ports import Ports, ensure_free, is_free
from hubchaos.stack.processes import ProcessRecord, ProcessTable, is_ours, stop_all
from hubchaos.stack.profiles import Profiles, ResolvedProfile, load_profiles
from hubchaos.stack.readiness import Progress, http_check, progress_to_stderr, wait_ready
from hubchaos.stack.state import (
    StackState,
    read_state,
    readable_state,
    recorded_port_offset,
    remove_state,
    write_state,
)
from hubchaos.stack.state_lock import state_lock
from hubchaos.stack.toxiproxy_setup import ensure_proxies

__all__ = [
    "DEFAULT_PROFILE",
    "DEFAULT_REPLICAS",
    "DEFAULT_STATE_DIR",
    "DownReport",
    "LocalStack",
    "PartStatus",
    "StackStatus",
]

DEFAULT_STATE_DIR = Path(".hubchaos")
DEFAULT_PROFILE = "fixed"
DEFAULT_REPLICAS = 2
STOP_DEADLINE_S = 10.0
HUB_WEB_DEADLINE_S = 20.0

# What `restart()` accepts besides "apps" and the replicas app-1 .. app-N.
RESTARTABLE = ("postgres", "toxiproxy", "receiver", "alertmanager", "prometheus", "exporter")

Spawned = tuple[ProcessRecord, float]  # the record and when it was spawned (monotonic)


@dataclass(frozen=True)
class DownReport:
    stopped: list[str]
    busy_ports: dict[int, str]  # port -> part, for ports still taken after down
    purged: bool


class LocalStack:
    """The hub stack as local processes under one state directory.

    up(profile, replicas, toxiproxy)  start everything and wait until healthy
    status()                          per-part health (StackStatus)
    down(purge=False)                 stop everything; purge also deletes the state dir
    set_profile(profile)              new pool settings + role limit; restarts the replicas
    scale(replicas)                   change the replica count (pool max re-derived)
    restart(component)                stop and start one part (RESTARTABLE, "apps", "app-K")
    state()                           the StackState of stack.json, or None

    `port_offset` shifts every port, so a test stack can run beside a
    developer's; by default it is the recorded stack's (stack.json), else
    $HUBCHAOS_PORT_OFFSET, else 0. `progress` receives one line per step.
    """

    def __init__(
        self,
        state_dir: Path | str = DEFAULT_STATE_DIR,
        port_offset: int | None = None,
        progress: Progress | None = None,
        profiles: Profiles | None = None,
    ) -> None:
        self.state_dir = Path(state_dir).absolute()
        self.layout = Layout(self.state_dir)
        if port_offset is None:  # the stack recorded here knows its own ports best
            port_offset = recorded_port_offset(self.state_dir)
        self.port_offset = port_offset
        self.ports = Ports.with_offset(self.port_offset)
        self.progress: Progress = progress or progress_to_stderr
        self._profiles = profiles
        self.table = ProcessTable(self.layout.pids, self.layout.logs)

    @property
    def profiles(self) -> Profiles:
        if self._profiles is None:
            self._profiles = load_profiles()
        return self._profiles

    def database(self, ports: Ports | None = None) -> StackDatabase:
        port = (ports or self.ports).postgres
        return StackDatabase(self.layout, port, self.profiles.budget, self.progress)

    def state(self) -> StackState | None:
        """What stack.json says (None when no stack was brought up here)."""
        return read_state(self.state_dir)

    def status(self) -> StackStatus:
        """Per part: healthy (answers its health check), running (process alive) or down."""
        state = self.state()
        if state is None:
            return leftover_status(self.table)
        return collect_status(state, self.table, self.database(Ports(**state.ports)))

    # ---------------------------------------------------------------------- up

    def up(
        self,
        profile: str = DEFAULT_PROFILE,
        replicas: int = DEFAULT_REPLICAS,
        toxiproxy: str = "auto",
    ) -> StackState:
        """Start the whole stack and wait until every part is healthy.

        `toxiproxy`: "auto" (a real toxiproxy-server on PATH, else the embedded
        server), "embedded", or the path of a toxiproxy-server binary. Raises
        UserError for bad input (nothing started) and StackError naming the part,
        the reason and its log when a part fails (everything stopped again).
        Returns the existing state when the same stack is already up and healthy.
        """
        resolved = self.profiles.resolve(profile, replicas)
        toxi_binary = resolve_toxiproxy(toxiproxy)
        binaries = Binaries.locate()
        _require_app()
        with state_lock(self.state_dir):
            existing = self._already_up(resolved)
            if existing is not None:
                return existing
            ensure_free(self.ports.wanted(replicas))
            try:
                with _sigterm_as_interrupt():
                    return self._start(resolved, toxi_binary, binaries)
            except BaseException:
                self.progress("up failed: stopping everything that was started")
                self._stop_everything(None)
                raise

    def _already_up(self, resolved: ResolvedProfile) -> StackState | None:
        state = self.state()
        alive = [record for record in self.table.records() if is_ours(record)]
        if state is not None and alive:
            same = (state.profile, state.replicas) == (resolved.name, resolved.replicas)
            if same and self.status().healthy:
                self.progress(f"the stack in {self.state_dir} is already up and healthy")
                return state
            what = (
                "not every part is healthy (see `hubchaos status`)"
                if same
                else (f"with profile {state.profile}, {state.replicas} replicas")
            )
            raise UserError(
                f"a stack is already running from {self.state_dir}, {what}: "
                "run `hubchaos down` first"
            )
        if alive or self.table.strays() or self.database().pid() is not None:
            self.progress("cleaning up what an interrupted `up` left behind")
            self._stop_everything(state)
        elif state is not None:
            remove_state(self.state_dir)  # stale: every process of it is gone
        return None

    def _start(
        self, resolved: ResolvedProfile, toxi_binary: str | None, binaries: Binaries
    ) -> StackState:
        started = time.monotonic()
        ports, layout = self.ports, self.layout
        self.progress(
            f"starting the hub stack (profile {resolved.name}, {resolved.replicas} replicas, "
            f"state {self.state_dir})"
        )
        self._fresh_observation_dirs()
        # `down` after a crash has no stack.json: this tells it which ports to check.
        layout.ports_file.write_text(json.dumps(ports.as_dict()))
        write_monitoring_configs(layout, ports, resolved.replicas)

        # Parts with no dependencies warm up while PostgreSQL starts and migrates.
        toxi = parts.toxiproxy_part(ports, toxi_binary)
        early = [
            toxi,
            parts.receiver_part(ports, layout),
            parts.alertmanager_part(ports, layout, binaries),
            parts.prometheus_part(ports, layout, binaries),
        ]
        spawned = {part.name: self._spawn(part) for part in early}

        database = self.database()
        database.start()
        database.migrate(resolved)
        database.ensure_observer_role()

        self._await(toxi, spawned[toxi.name])
        ensure_proxies(toxi.endpoint, proxy_specs(ports), spawned[toxi.name][0].log_file)

        late = [parts.exporter_part(ports, binaries, superuser_password(self.state_dir))] + [
            parts.app_part(ports, i, resolved.pool) for i in range(1, resolved.replicas + 1)
        ]
        spawned.update({part.name: self._spawn(part) for part in late})
        for part in early[1:] + late:
            self._await(part, spawned[part.name])
        hub_web = parts.url(ports.hub_web)
        wait_ready(
            "hub_web proxy", http_check(f"{hub_web}/healthz"), HUB_WEB_DEADLINE_S,
            self.progress, log_file=spawned[toxi.name][0].log_file,
        )  # fmt: skip

        records = {name: record for name, (record, _) in spawned.items()}
        state = self._new_state(resolved, toxi, records)
        write_state(self.state_dir, state)
        self.progress(f"hub stack up in {time.monotonic() - started:.1f}s")
        return state

    def _new_state(
        self, resolved: ResolvedProfile, toxi: parts.ProcessPart, records: dict[str, ProcessRecord]
    ) -> StackState:
        ports = self.ports
        kind = "embedded" if toxi.argv[0] == sys.executable else "binary"
        state = StackState(
            state_dir=str(self.state_dir),
            profile=resolved.name,
            replicas=resolved.replicas,
            toxiproxy_url=toxi.endpoint,
            **parts.endpoints(ports, resolved.replicas, superuser_password(self.state_dir)),
            port_offset=self.port_offset,
            budget=resolved.as_dict(),
            toxiproxy={
                "kind": kind,
                "binary": toxi.argv[0] if kind == "binary" else "",
                "command": " ".join(toxi.argv),
            },
            proxies={spec.name: spec.as_dict() for spec in proxy_specs(ports)},
            pids={"postgres": self.database().pid() or 0},
            processes={},
            logs={name: str(self.layout.log(name)) for name in ("postgres", "migrate")},
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        for record in records.values():
            _remember(state, record)
        return state

    # ------------------------------------------------- changing a running stack

    def set_profile(self, profile: str) -> StackState:
        """Switch the running stack to `profile`: role limit re-applied, replicas restarted."""
        with state_lock(self.state_dir):
            state = self._require_running()
            resolved = self.profiles.resolve(profile, state.replicas)
            ports = Ports(**state.ports)
            self.database(ports).migrate(resolved)
            self._restart_apps(state, resolved, state.replicas)
            return self._save(state, resolved)

    def scale(self, replicas: int) -> StackState:
        """Run `replicas` app replicas; the fixed profile re-derives each pool max."""
        with state_lock(self.state_dir):
            state = self._require_running()
            resolved = self.profiles.resolve(state.profile, replicas)
            ports = Ports(**state.ports)
            ensure_free(
                {
                    parts.replica_name(i): ports.replica(i)
                    for i in range(state.replicas + 1, replicas + 1)
                }
            )
            self._restart_apps(state, resolved, replicas)
            write_monitoring_configs(self.layout, ports, replicas)
            self._reload_prometheus()
            state.replicas = replicas
            state.app_replica_urls = parts.replica_urls(ports, replicas)
            return self._save(state, resolved)

    def restart(self, component: str) -> StackState:
        """Stop and start one part and wait until it is healthy again.

        `component`: postgres, toxiproxy (proxies re-created, their toxics are
        gone), receiver, alertmanager, prometheus, exporter, apps (every
        replica) or app-K.
        """
        with state_lock(self.state_dir):
            state = self._require_running()
            ports = Ports(**state.ports)
            resolved = self.profiles.resolve(state.profile, state.replicas)
            replicas = [parts.replica_name(i) for i in range(1, state.replicas + 1)]
            if component == "postgres":
                database = self.database(ports)
                database.stop()
                database.start()
                state.pids["postgres"] = database.pid() or 0
            elif component == "apps":
                self._restart_apps(state, resolved, state.replicas)
            elif component in replicas or component in RESTARTABLE:
                part = self._part(component, state, ports, resolved)
                old = self.table.record(component)
                if old is not None:
                    self.table.stop(old, STOP_DEADLINE_S)
                spawned = self._spawn(part)
                self._await(part, spawned)
                if component == "toxiproxy":
                    ensure_proxies(part.endpoint, proxy_specs(ports), spawned[0].log_file)
                _remember(state, spawned[0])
            else:
                names = ", ".join([*RESTARTABLE, "apps", *replicas])
                raise UserError(f"unknown component '{component}': choose one of {names}")
            if component in ("postgres", "toxiproxy"):
                self._await_replicas(state)  # their database path was cut: wait for /readyz
            write_state(self.state_dir, state)
            return state

    # -------------------------------------------------------------------- down

    def down(self, purge: bool = False) -> DownReport:
        """Stop every part (even after an `up` that crashed halfway); keep the DB unless purge."""
        if not self.state_dir.exists():
            return DownReport([], {}, purged=False)
        with state_lock(self.state_dir):
            state = readable_state(self.state_dir)
            ports = Ports(**state.ports) if state else self._ports_of_last_up()
            replicas = (
                state.replicas
                if state
                else len([r for r in self.table.records() if r.name.startswith("app-")])
            )
            stopped = self._stop_everything(state)
            # Ports are only ours to worry about if we just stopped what held them.
            wanted = ports.wanted(max(1, replicas))
            busy = _wait_ports_free(wanted, deadline_s=5.0) if stopped else {}
            if purge:
                shutil.rmtree(self.state_dir, ignore_errors=True)
            return DownReport(stopped, busy, purged=purge)

    def _stop_everything(self, state: StackState | None) -> list[str]:
        """Stop every recorded process, then PostgreSQL; forget stack.json."""
        records = {record.name: record for record in self.table.records()}
        for name, raw in (state.processes if state else {}).items():
            with contextlib.suppress(KeyError, ValueError, TypeError):
                records.setdefault(name, ProcessRecord.from_dict(raw))
        alive = [record for record in records.values() if is_ours(record)]
        # Replicas first, so they close their connections while the database is still there.
        apps = [record for record in alive if record.name.startswith("app-")]
        others = [record for record in alive if not record.name.startswith("app-")]
        stop_all(apps, STOP_DEADLINE_S)
        stop_all(others, STOP_DEADLINE_S)
        for name in records:
            self.table.forget(name)
        stopped = [record.name for record in apps + others]
        strays = self.table.stop_strays()  # spawned, but killed before its pidfile was written
        stopped.extend(f"unrecorded pid {pid}" for pid in strays)
        ports = Ports(**state.ports) if state else self.ports
        if self.database(ports).stop():
            stopped.append("postgres")
        remove_state(self.state_dir)
        self.layout.ports_file.unlink(missing_ok=True)
        return stopped

    def _ports_of_last_up(self) -> Ports:
        try:
            return Ports(**json.loads(self.layout.ports_file.read_text()))
        except (OSError, ValueError, TypeError):
            return self.ports

    # ----------------------------------------------------------------- helpers

    def _spawn(self, part: parts.ProcessPart) -> Spawned:
        _, record = self.table.spawn(part.name, part.argv, env=part.env)
        return record, time.monotonic()

    def _await(self, part: parts.ProcessPart, spawned: Spawned) -> None:
        record, started = spawned
        wait_ready(
            part.name, part.check, part.deadline_s, self.progress,
            record=record, started_at=started,
        )  # fmt: skip

    def _part(
        self, name: str, state: StackState, ports: Ports, resolved: ResolvedProfile
    ) -> parts.ProcessPart:
        if name.startswith("app-"):
            return parts.app_part(ports, int(name.split("-", 1)[1]), resolved.pool)
        if name == "toxiproxy":
            return parts.toxiproxy_part(ports, state.toxiproxy.get("binary") or None)
        if name == "receiver":
            return parts.receiver_part(ports, self.layout)
        binaries = Binaries.locate()
        password = superuser_password(self.state_dir)
        builders: dict[str, Callable[[], parts.ProcessPart]] = {
            "alertmanager": lambda: parts.alertmanager_part(ports, self.layout, binaries),
            "prometheus": lambda: parts.prometheus_part(ports, self.layout, binaries),
            "exporter": lambda: parts.exporter_part(ports, binaries, password),
        }
        return builders[name]()

    def _restart_apps(self, state: StackState, resolved: ResolvedProfile, replicas: int) -> None:
        ports = Ports(**state.ports)
        self.progress(f"restarting app replicas ({replicas} x pool max {resolved.pool.max}) ...")
        old = [record for record in self.table.records() if record.name.startswith("app-")]
        stop_all(old, STOP_DEADLINE_S)
        for record in old:
            self.table.forget(record.name)
            for table in (state.pids, state.processes, state.logs):
                table.pop(record.name, None)
        new = [parts.app_part(ports, i, resolved.pool) for i in range(1, replicas + 1)]
        spawned = {part.name: self._spawn(part) for part in new}
        for part in new:
            self._await(part, spawned[part.name])
            _remember(state, spawned[part.name][0])

    def _await_replicas(self, state: StackState) -> None:
        for index, replica_url in enumerate(state.app_replica_urls, start=1):
            name = parts.replica_name(index)
            wait_ready(
                name, http_check(f"{replica_url}/readyz"), 30.0, self.progress,
                record=self.table.record(name),
            )  # fmt: skip

    def _save(self, state: StackState, resolved: ResolvedProfile) -> StackState:
        state.profile = resolved.name
        state.budget = resolved.as_dict()
        write_state(self.state_dir, state)
        return state

    def _reload_prometheus(self) -> None:
        record = self.table.record("prometheus")
        if record is not None and is_ours(record):
            os.kill(record.pid, signal.SIGHUP)  # Prometheus re-reads its config on SIGHUP

    def _require_running(self) -> StackState:
        state = self.state()
        if state is None:
            raise UserError(f"no stack is running from {self.state_dir}: run `hubchaos up` first")
        return state

    def _fresh_observation_dirs(self) -> None:
        """Metrics, silences and notifications of an earlier run must not leak into this one."""
        layout = self.layout
        for directory in (
            layout.prometheus / "data",
            layout.alertmanager / "data",
            layout.receiver,
        ):
            shutil.rmtree(directory, ignore_errors=True)
        for directory in (
            layout.prometheus, layout.alertmanager, layout.receiver, layout.logs, layout.pids,
        ):  # fmt: skip
            directory.mkdir(parents=True, exist_ok=True)


def resolve_toxiproxy(choice: str) -> str | None:
    """The toxiproxy-server binary to run, or None for the embedded server."""
    if choice == "embedded":
        return None
    if choice == "auto":
        return toxiproxy_server_on_path()
    return check_executable(choice)


def _remember(state: StackState, record: ProcessRecord) -> None:
    state.pids[record.name] = record.pid
    state.processes[record.name] = record.as_dict()
    state.logs[record.name] = record.log_file


def _require_app() -> None:
    if importlib.util.find_spec("learninghub") is None:
        raise UserError(
            "the learninghub app is not installed: pip install -e environments/hub "
            "(./scripts/setup does it)"
        )


def _wait_ports_free(wanted: dict[str, int], deadline_s: float) -> dict[int, str]:
    deadline = time.monotonic() + deadline_s
    while True:
        busy = {port: part for part, port in wanted.items() if not is_free(port)}
        if not busy or time.monotonic() >= deadline:
            return busy
        time.sleep(0.1)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let SIGTERM unwind like Ctrl-C so a killed `up` still stops what it started."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
