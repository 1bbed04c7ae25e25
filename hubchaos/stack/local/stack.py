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
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from hubchaos.errors import UserError
from hubchaos.stack.base import BaseStack
from hubchaos.stack.credentials import superuser_password
from hubchaos.stack.driver import DEFAULT_PROFILE, DEFAULT_REPLICAS, DEFAULT_STATE_DIR
from hubchaos.stack.endpoints import endpoints, replica_name, replica_urls, url
from hubchaos.stack.local import parts
from hubchaos.stack.local.binaries import Binaries, resolve_toxiproxy
from hubchaos.stack.local.database import StackDatabase
from hubchaos.stack.local.health import collect_status, leftover_status, proxy_specs
from hubchaos.stack.local.layout import Layout
from hubchaos.stack.local.monitoring_files import write_monitoring_configs
from hubchaos.stack.local.processes import ProcessRecord, ProcessTable, is_ours, stop_all
from hubchaos.stack.ports import Ports, ensure_free
from hubchaos.stack.profiles import Profiles, ResolvedProfile
from hubchaos.stack.readiness import Progress, http_check, wait_ready
from hubchaos.stack.state import StackState, readable_state, remove_state, write_state
from hubchaos.stack.state_lock import state_lock
from hubchaos.stack.status import StackStatus
from hubchaos.stack.toxiproxy_setup import ensure_proxies

__all__ = ["RESTARTABLE", "LocalStack"]

STOP_DEADLINE_S = 10.0
HUB_WEB_DEADLINE_S = 20.0

# What `restart()` accepts besides "apps" and the replicas app-1 .. app-N.
RESTARTABLE = ("postgres", "toxiproxy", "receiver", "alertmanager", "prometheus", "exporter")

Spawned = tuple[ProcessRecord, float]  # the record and when it was spawned (monotonic)


class LocalStack(BaseStack):
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

    env = "local"

    def __init__(
        self,
        state_dir: Path | str = DEFAULT_STATE_DIR,
        port_offset: int | None = None,
        progress: Progress | None = None,
        profiles: Profiles | None = None,
    ) -> None:
        super().__init__(state_dir, port_offset, progress, profiles)
        self.layout = Layout(self.state_dir)
        self.table = ProcessTable(self.layout.pids, self.layout.logs)

    def database(self, ports: Ports | None = None) -> StackDatabase:
        port = (ports or self.ports).postgres
        return StackDatabase(self.layout, port, self.profiles.budget, self.progress)

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
        parts.require_app()
        return self._bring_up(resolved, lambda: self._start(resolved, toxi_binary, binaries))

    # What BaseStack asks of a driver: are parts alive, what is left over, how to stop all.

    def _has_running_parts(self) -> bool:
        return any(is_ours(record) for record in self.table.records())

    def _has_leftovers(self) -> bool:
        return (
            self._has_running_parts()
            or bool(self.table.strays())
            or self.database().pid() is not None
        )

    def _ports_to_free(self) -> dict[str, int]:
        state = readable_state(self.state_dir)
        ports = Ports(**state.ports) if state else self._ports_of_last_up()
        replicas = (
            state.replicas
            if state
            else len([r for r in self.table.records() if r.name.startswith("app-")])
        )
        return ports.wanted(max(1, replicas))

    def _start(
        self, resolved: ResolvedProfile, toxi_binary: str | None, binaries: Binaries
    ) -> StackState:
        started = time.monotonic()
        ports, layout = self.ports, self.layout
        self.progress(
            f"starting the hub stack (profile {resolved.name}, {resolved.replicas} replicas, "
            f"state {self.state_dir})"
        )
        self.layout.fresh_observation_dirs()
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
        hub_web = url(ports.hub_web)
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
            **endpoints(ports, resolved.replicas, superuser_password(self.state_dir)),
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
                {replica_name(i): ports.replica(i) for i in range(state.replicas + 1, replicas + 1)}
            )
            self._restart_apps(state, resolved, replicas)
            write_monitoring_configs(self.layout, ports, replicas)
            self._reload_prometheus()
            state.replicas = replicas
            state.app_replica_urls = replica_urls(ports, replicas)
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
            replicas = [replica_name(i) for i in range(1, state.replicas + 1)]
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

    def _teardown(self, state: StackState | None) -> list[str]:
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
            alive=_alive(record), log_file=record.log_file, started_at=started,
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
            name = replica_name(index)
            record = self.table.record(name)
            wait_ready(
                name, http_check(f"{replica_url}/readyz"), 30.0, self.progress,
                alive=_alive(record), log_file=record.log_file if record else None,
            )  # fmt: skip

    def _reload_prometheus(self) -> None:
        record = self.table.record("prometheus")
        if record is not None and is_ours(record):
            os.kill(record.pid, signal.SIGHUP)  # Prometheus re-reads its config on SIGHUP


def _remember(state: StackState, record: ProcessRecord) -> None:
    state.pids[record.name] = record.pid
    state.processes[record.name] = record.as_dict()
    state.logs[record.name] = record.log_file


def _alive(record: ProcessRecord | None) -> Callable[[], bool] | None:
    """Whether the part's process is still ours, for wait_ready (None: not watched)."""
    if record is None:
        return None
    return lambda: is_ours(record)
