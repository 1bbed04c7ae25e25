"""The hub stack in Docker: `hubchaos up --env docker [--offline]`, driven through the Docker API.

`DockerStack` has the same surface as `LocalStack` (up, status, down,
set_profile, scale, restart, state) and writes the same `stack.json`, with
every endpoint published on 127.0.0.1 at the local stack's ports, so every
experiment runs unchanged against either. It also gives experiments their
container faults: stop, start, restart, pause, unpause and kill a service.

What runs comes from environments/docker/compose.yaml (plus
compose.offline.yaml with --offline), read by hubchaos.stack.docker_compose;
no compose CLI is needed. Start order mirrors the local stack: the parts
without dependencies start while PostgreSQL comes up and the one-shot
`migrate` container runs; then the proxies are (re)created, the exporter and
the app replicas start, and each part is awaited through its published port.
A failure (or Ctrl-C / SIGTERM) removes everything started before it.

Besides stack.json the state directory holds docker.json (project, mode,
compose files) and docker/config/ (the rendered configs the containers mount).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from hubchaos.errors import StackError, UserError
from hubchaos.stack import parts
from hubchaos.stack.docker_compose import (
    COMPOSE_FILE,
    OFFLINE_OVERRIDE,
    ServiceSpec,
    load_compose,
)
from hubchaos.stack.docker_config import proxy_specs, render_configs
from hubchaos.stack.docker_containers import Project, connect, describe
from hubchaos.stack.docker_images import default_runtime_context, ensure_images
from hubchaos.stack.health import PartStatus, StackStatus
from hubchaos.stack.local import (
    DEFAULT_PROFILE,
    DEFAULT_REPLICAS,
    DEFAULT_STATE_DIR,
    DownReport,
    _sigterm_as_interrupt,
)
from hubchaos.stack.ports import Ports, ensure_free, is_free
from hubchaos.stack.profiles import Profiles, ResolvedProfile, load_profiles
from hubchaos.stack.readiness import Check, Progress, http_check, progress_to_stderr, wait_ready
from hubchaos.stack.state import (
    StackState,
    read_state,
    readable_state,
    recorded_port_offset,
    remove_state,
    write_state,
)
from hubchaos.stack.state_lock import state_lock
from hubchaos.stack.toxiproxy_setup import ensure_proxies, missing_proxies

__all__ = ["DOCKER_FILE", "DockerStack", "docker_project_name"]

DOCKER_FILE = "docker.json"
MIGRATE = "migrate"
EARLY = ("postgres", "toxiproxy", "receiver", "alertmanager", "prometheus")
STOP_TIMEOUT_S = 10
MIGRATE_DEADLINE_S = 300.0
DEADLINES_S = {"postgres": 60.0, "prometheus": 60.0, "toxiproxy": 30.0}
APP_DEADLINE_S = 90.0
OTHER_DEADLINE_S = 45.0


def docker_project_name(port_offset: int) -> str:
    """One compose project per port offset, so a test stack runs beside a developer's."""
    if port_offset == 0:
        return "hubchaos"
    sign = "m" if port_offset < 0 else "o"  # "m" for minus: a readable, valid project name
    return f"hubchaos-{sign}{abs(port_offset)}"


class DockerStack:
    """The hub stack as containers of one compose project (see the module docstring)."""

    def __init__(
        self,
        state_dir: Path | str = DEFAULT_STATE_DIR,
        port_offset: int | None = None,
        progress: Progress | None = None,
        profiles: Profiles | None = None,
    ) -> None:
        self.state_dir = Path(state_dir).absolute()
        if port_offset is None:  # the stack recorded here knows its own ports best
            port_offset = recorded_port_offset(self.state_dir)
        self.port_offset = port_offset
        self.ports = Ports.with_offset(self.port_offset)
        self.progress: Progress = progress or progress_to_stderr
        self._profiles = profiles
        self._client: Any = None

    # ------------------------------------------------------------ plumbing

    @property
    def profiles(self) -> Profiles:
        if self._profiles is None:
            self._profiles = load_profiles()
        return self._profiles

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect()
        return self._client

    @property
    def project(self) -> Project:
        name = self.docker_info().get("project") or docker_project_name(self.port_offset)
        return Project(self.client, str(name), self.state_dir)

    @property
    def config_dir(self) -> Path:
        return self.state_dir / "docker" / "config"

    def state(self) -> StackState | None:
        return read_state(self.state_dir)

    def docker_info(self) -> dict[str, Any]:
        """docker.json: project, offline, compose files, services (empty when absent)."""
        try:
            data = json.loads((self.state_dir / DOCKER_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def compose_files(self, offline: bool) -> list[Path]:
        return [COMPOSE_FILE, OFFLINE_OVERRIDE] if offline else [COMPOSE_FILE]

    def specs(self, resolved: ResolvedProfile, offline: bool) -> list[ServiceSpec]:
        """The stack's containers for a profile applied to a replica count."""
        return load_compose(
            self.compose_files(offline), self._variables(resolved), resolved.replicas
        )

    def _variables(self, resolved: ResolvedProfile) -> dict[str, str]:
        ports, budget = self.ports, resolved.budget
        observers = sum(n for name, n in budget.observer_slots.items() if name != "exporter") or 1
        values: dict[str, Any] = {
            "HUBCHAOS_POSTGRES_PORT": ports.postgres,
            "HUBCHAOS_TOXIPROXY_PORT": ports.toxiproxy,
            "HUBCHAOS_HUB_DB_PORT": ports.hub_db,
            "HUBCHAOS_HUB_WEB_PORT": ports.hub_web,
            "HUBCHAOS_PROMETHEUS_PORT": ports.prometheus,
            "HUBCHAOS_ALERTMANAGER_PORT": ports.alertmanager,
            "HUBCHAOS_RECEIVER_PORT": ports.receiver,
            "HUBCHAOS_EXPORTER_PORT": ports.exporter,
            "HUBCHAOS_PG_MAX_CONNECTIONS": budget.max_connections,
            "HUBCHAOS_PG_SUPERUSER_RESERVED": budget.superuser_reserved_connections,
            "HUBCHAOS_ROLE_CONNECTION_LIMIT": resolved.role_connection_limit,
            "HUBCHAOS_OBSERVER_LIMIT": observers,
            "HUBCHAOS_DOCKER_CONFIG": self.config_dir,
            "HUBCHAOS_RUNTIME_CONTEXT": default_runtime_context(),
        }
        for key, value in resolved.pool.env().items():
            values[key.replace("LEARNINGHUB_", "HUBCHAOS_")] = value
        for index in range(1, resolved.replicas + 1):
            values[f"HUBCHAOS_APP_{index}_PORT"] = ports.replica(index)
        # Image pins (HUBCHAOS_*_IMAGE) may come from the user's environment.
        return {**os.environ, **{key: str(value) for key, value in values.items()}}

    # --------------------------------------------------------- images, configs

    def build_images(self, offline: bool, replicas: int = DEFAULT_REPLICAS) -> list[str]:
        """Build (and, online, pull) every image the stack needs; returns those built."""
        resolved = self.profiles.resolve(DEFAULT_PROFILE, replicas)
        return ensure_images(self.client, self.specs(resolved, offline), offline, self.progress)

    def render_configs(self, directory: Path, replicas: int) -> dict[str, Path]:
        return render_configs(directory, replicas)

    # ------------------------------------------------------------------- up

    def up(
        self,
        profile: str = DEFAULT_PROFILE,
        replicas: int = DEFAULT_REPLICAS,
        offline: bool = False,
    ) -> StackState:
        """Start every container and wait until every part answers on its published port.

        Raises UserError for bad input or a missing engine/base image (nothing
        started) and StackError naming the part (everything removed again).
        Returns the existing state when the same stack is already up and healthy.
        """
        resolved = self.profiles.resolve(profile, replicas)
        self.client  # noqa: B018 - fail early and clearly when no engine answers
        with state_lock(self.state_dir):
            existing = self._already_up(resolved)
            if existing is not None:
                return existing
            ensure_free(self.ports.wanted(resolved.replicas))
            started = time.monotonic()
            specs = {spec.name: spec for spec in self.specs(resolved, offline)}
            ensure_images(self.client, specs.values(), offline, self.progress)
            ensure_free(self.ports.wanted(resolved.replicas))  # again: a build takes a while
            try:
                with _sigterm_as_interrupt():
                    state = self._start(resolved, specs, offline)
            except BaseException:
                self.progress("up failed: removing every container that was started")
                self._remove_everything()
                raise
            self.progress(f"hub stack up in {time.monotonic() - started:.1f}s (docker)")
            return state

    def _already_up(self, resolved: ResolvedProfile) -> StackState | None:
        state = readable_state(self.state_dir)
        containers = self.project.containers()
        if state is not None and state.env == "docker" and containers:
            same = (state.profile, state.replicas) == (resolved.name, resolved.replicas)
            if same and self.status().healthy:
                self.progress(f"the docker stack in {self.state_dir} is already up and healthy")
                return state
            what = "not every part is healthy" if same else (
                f"with profile {state.profile}, {state.replicas} replicas"
            )  # fmt: skip
            raise UserError(
                f"a docker stack is already running from {self.state_dir}, {what}: "
                "run `hubchaos down` first"
            )
        if state is not None and state.env != "docker":
            raise UserError(
                f"a {state.env} stack is recorded in {self.state_dir}: run `hubchaos down` first"
            )
        if containers:
            self.progress("removing what an interrupted `up` left behind")
            self._remove_everything()
        return None

    def _start(
        self, resolved: ResolvedProfile, specs: dict[str, ServiceSpec], offline: bool
    ) -> StackState:
        project = self.project
        mode = "offline images" if offline else "registry images"
        self.progress(
            f"starting the docker hub stack (profile {resolved.name}, {resolved.replicas} "
            f"replicas, {mode}, project {project.name})"
        )
        self._write_info(project.name, offline, resolved.replicas)
        render_configs(self.config_dir, resolved.replicas)
        project.ensure_network()
        clock = {name: time.monotonic() for name in EARLY}
        for name in EARLY:
            project.run(specs[name])
        self._await("postgres", clock["postgres"])
        self._migrate(specs[MIGRATE])
        self._await("toxiproxy", clock["toxiproxy"])
        api = parts.url(self.ports.toxiproxy)
        ensure_proxies(api, proxy_specs(), None)
        late = ["exporter", *(name for name in specs if specs[name].is_replica)]
        for name in late:
            clock[name] = time.monotonic()
            project.run(specs[name])
        for name in [*EARLY[2:], *late]:
            self._await(name, clock[name])
        wait_ready(
            "hub_web proxy", http_check(f"{parts.url(self.ports.hub_web)}/healthz"), 30.0,
            self.progress,
        )  # fmt: skip
        state = self._new_state(resolved, specs, offline)
        write_state(self.state_dir, state)
        return state

    def _migrate(self, spec: ServiceSpec) -> None:
        started = time.monotonic()
        self.progress("migrating the learninghub database (one-shot container) ...")
        container = self.project.run(spec)
        try:
            result = container.wait(timeout=MIGRATE_DEADLINE_S)
        except Exception as exc:  # requests' ReadTimeout, or the engine went away
            raise StackError(MIGRATE, f"did not finish: {exc}") from None
        if result.get("StatusCode") != 0:
            raise StackError(
                MIGRATE, f"exited with {result.get('StatusCode')}: {self._log_tail(container)}"
            )
        self.progress(
            f"migrating the learninghub database ... done in {time.monotonic() - started:.1f}s"
        )

    def _new_state(
        self, resolved: ResolvedProfile, specs: dict[str, ServiceSpec], offline: bool
    ) -> StackState:
        ports = self.ports
        proxy = specs["toxiproxy"]
        return StackState(
            state_dir=str(self.state_dir),
            profile=resolved.name,
            replicas=resolved.replicas,
            toxiproxy_url=parts.url(ports.toxiproxy),
            **parts.endpoints(ports, resolved.replicas),
            port_offset=self.port_offset,
            budget=resolved.as_dict(),
            toxiproxy={
                "kind": "embedded" if offline else "docker",
                "binary": "",
                "command": " ".join(
                    [proxy.image, *(proxy.entrypoint or []), *(proxy.command or [])]
                ),
            },
            proxies={spec.name: spec.as_dict() for spec in proxy_specs()},
            pids={},
            processes={},
            logs={},
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            env="docker",
        )

    # ------------------------------------------------------- health and status

    def check(self, service: str) -> Check:
        """The host-side health check of `service` through its published port."""
        ports = self.ports
        if service == "postgres":
            return _database_check(
                parts.db_dsn(ports.postgres, parts.SUPERUSER, parts.SUPERUSER_PASSWORD)
            )
        if service.startswith("app-"):
            return http_check(f"{parts.url(ports.replica(int(service[4:])))}/readyz")
        checks = {
            "toxiproxy": lambda: http_check(f"{parts.url(ports.toxiproxy)}/version"),
            "receiver": lambda: http_check(f"{parts.url(ports.receiver)}/healthz"),
            "alertmanager": lambda: http_check(f"{parts.url(ports.alertmanager)}/-/ready"),
            "prometheus": lambda: http_check(f"{parts.url(ports.prometheus)}/-/ready"),
            "exporter": lambda: http_check(f"{parts.url(ports.exporter)}/metrics", "\npg_up 1"),
        }
        if service not in checks:
            raise UserError(
                f"unknown service '{service}': choose one of {', '.join(self.services())}"
            )
        return checks[service]()

    def live_check(self, service: str) -> Check:
        """Whether the service's process answers at all: an app replica's /healthz (it is
        alive even while PostgreSQL refuses it), the usual check for everything else."""
        if service.startswith("app-"):
            return http_check(f"{parts.url(self.ports.replica(int(service[4:])))}/healthz")
        return self.check(service)

    def endpoint(self, service: str) -> str:
        ports = self.ports
        if service == "postgres":
            return f"127.0.0.1:{ports.postgres}"
        if service.startswith("app-"):
            return parts.url(ports.replica(int(service[4:])))
        port = {
            "toxiproxy": ports.toxiproxy, "receiver": ports.receiver,
            "alertmanager": ports.alertmanager, "prometheus": ports.prometheus,
            "exporter": ports.exporter,
        }[service]  # fmt: skip
        return parts.url(port)

    def services(self) -> list[str]:
        """The long-running services of the recorded stack (migrate is one-shot)."""
        state = readable_state(self.state_dir)
        replicas = state.replicas if state else int(self.docker_info().get("replicas", 0))
        return [*EARLY, "exporter", *(f"app-{i}" for i in range(1, replicas + 1))]

    def _await(self, service: str, started_at: float, live_only: bool = False) -> float:
        deadline = DEADLINES_S.get(
            service, APP_DEADLINE_S if service.startswith("app-") else OTHER_DEADLINE_S
        )
        check = self.live_check(service) if live_only else self.check(service)

        def alive_and_healthy() -> str | None:
            container = self.project.container(service)
            if container is None:
                raise StackError(service, "container is gone")
            container.reload()
            if container.status in ("exited", "dead"):
                raise StackError(service, f"container exited: {self._log_tail(container)}",
                                 f"docker logs {container.name}")  # fmt: skip
            return check()

        return wait_ready(
            service, alive_and_healthy, deadline, self.progress, started_at=started_at
        )

    def health(self) -> list[dict[str, Any]]:
        """Every container of the stack: status, Docker health, restart count, exit code."""
        return [describe(container) for container in self.project.containers()]

    def status(self) -> StackStatus:
        """Per service: healthy (container running and its check passes), running or down."""
        state = readable_state(self.state_dir)
        if state is None:
            leftovers = [
                PartStatus(c.labels.get("com.docker.compose.service", c.name), "running", "",
                           "left over from an interrupted up")
                for c in self.project.containers() if c.status == "running"
            ]  # fmt: skip
            return StackStatus(leftovers, None)
        found = {item["service"]: item for item in self.health()}
        statuses = []
        for service in self.services():
            endpoint = self.endpoint(service)
            item = found.get(service)
            if item is None:
                statuses.append(PartStatus(service, "down", endpoint, "no container"))
            elif item["paused"]:
                statuses.append(PartStatus(service, "running", endpoint, "container paused"))
            elif not item["running"]:
                detail = f"container {item['status']} (exit code {item['exit_code']})"
                statuses.append(PartStatus(service, "down", endpoint, detail))
            else:
                reason = self.check(service)()
                detail = reason or f"docker health: {item['health']}"
                statuses.append(
                    PartStatus(service, "running" if reason else "healthy", endpoint, detail)
                )
        statuses.extend(self._proxy_statuses(state))
        return StackStatus(statuses, state)

    def _proxy_statuses(self, state: StackState) -> list[PartStatus]:
        specs = proxy_specs()
        missing = set(missing_proxies(state.toxiproxy_url, specs))
        published = {"hub_db": self.ports.hub_db, "hub_web": self.ports.hub_web}
        statuses = []
        for spec in specs:
            endpoint = f"127.0.0.1:{published[spec.name]} -> {spec.upstream}"
            word = "down" if spec.name in missing else "healthy"
            detail = "not configured" if spec.name in missing else ""
            statuses.append(PartStatus(f"{spec.name} proxy", word, endpoint, detail))
        return statuses

    def logs(self, service: str, tail: int = 100) -> str:
        """The last `tail` lines the service's container wrote (stdout and stderr)."""
        container = self.project.container(service)
        if container is None:
            raise UserError(f"no container for service '{service}' in project {self.project.name}")
        return str(container.logs(tail=tail, timestamps=False).decode(errors="replace"))

    def _log_tail(self, container: Any, lines: int = 3) -> str:
        try:
            text = container.logs(tail=20).decode(errors="replace")
        except Exception:  # the container may be gone already
            return ""
        last = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
        return " | ".join(last)[-400:]

    # ------------------------------------------------------------------ down

    def down(self, purge: bool = False) -> DownReport:
        """Remove every container and the network; keep the state dir unless purge."""
        if not self.state_dir.exists():
            return DownReport([], {}, purged=False)
        with state_lock(self.state_dir):
            replicas = max(1, int(self.docker_info().get("replicas", 1)))
            stopped = self._remove_everything()
            wanted = self.ports.wanted(replicas)
            busy = _wait_ports_free(wanted, 10.0) if stopped else {}
            if purge:
                shutil.rmtree(self.state_dir, ignore_errors=True)
            return DownReport(stopped, busy, purged=purge)

    def _remove_everything(self) -> list[str]:
        project = self.project
        services = sorted(
            {c.labels.get("com.docker.compose.service", "") for c in project.containers()}
        )
        # Replicas first, so they close their connections while the database is still there.
        apps = [service for service in services if service.startswith("app-")]
        others = [service for service in services if not service.startswith("app-")]
        stopped = project.stop_all(apps, STOP_TIMEOUT_S) + project.stop_all(others, STOP_TIMEOUT_S)
        project.remove_network()
        remove_state(self.state_dir)
        (self.state_dir / DOCKER_FILE).unlink(missing_ok=True)
        return stopped

    # --------------------------------------------------- changing a running stack

    def set_profile(self, profile: str) -> StackState:
        """New pool settings: the role limit is re-applied and every replica recreated."""
        with state_lock(self.state_dir):
            state = self._require_running()
            resolved = self.profiles.resolve(profile, state.replicas)
            specs = {spec.name: spec for spec in self.specs(resolved, self._offline())}
            self._migrate(specs[MIGRATE])
            self._recreate_apps(specs, state.replicas)
            return self._save(state, resolved)

    def scale(self, replicas: int) -> StackState:
        """Run `replicas` replicas (pool max re-derived by the profile); Prometheus follows."""
        with state_lock(self.state_dir):
            state = self._require_running()
            resolved = self.profiles.resolve(state.profile, replicas)
            ensure_free(
                {f"app-{i}": self.ports.replica(i) for i in range(state.replicas + 1, replicas + 1)}
            )
            specs = {spec.name: spec for spec in self.specs(resolved, self._offline())}
            self._recreate_apps(specs, state.replicas)
            render_configs(self.config_dir, replicas)
            prometheus = self.project.container("prometheus")
            if prometheus is not None:
                prometheus.kill(signal="SIGHUP")  # Prometheus re-reads its config on SIGHUP
            self._write_info(self.project.name, self._offline(), replicas)
            state.replicas = replicas
            state.app_replica_urls = parts.replica_urls(self.ports, replicas)
            return self._save(state, resolved)

    def restart(self, component: str) -> StackState:
        """Restart one service ("apps": every replica) and wait until it is healthy again."""
        with state_lock(self.state_dir):
            state = self._require_running()
            targets = (
                [s for s in self.services() if s.startswith("app-")]
                if component == "apps"
                else [component]
            )
            for service in targets:
                self.restart_service(service)
            if component in ("postgres", "toxiproxy"):
                for service in self.services():
                    if service.startswith("app-"):
                        self._await(service, time.monotonic())
            return state

    def _recreate_apps(self, specs: dict[str, ServiceSpec], old_replicas: int) -> None:
        apps = [name for name in specs if specs[name].is_replica]
        self.progress(f"recreating app replicas ({len(apps)}) ...")
        old = [f"app-{i}" for i in range(1, old_replicas + 1)]
        self.project.stop_all(old, STOP_TIMEOUT_S)
        clock = {}
        for name in apps:
            clock[name] = time.monotonic()
            self.project.run(specs[name])
        for name in apps:
            self._await(name, clock[name])

    # ------------------------------------------------------- container faults

    def container(self, service: str) -> Any:
        """The running stack's container of `service`, or UserError naming the choices."""
        choices = self.services()
        if service not in choices:
            raise UserError(f"unknown service '{service}': choose one of {', '.join(choices)}")
        container = self.project.container(service)
        if container is None:
            raise UserError(f"service '{service}' has no container (was the stack brought down?)")
        return container

    def stop_service(self, service: str, timeout_s: int = STOP_TIMEOUT_S) -> dict[str, Any]:
        self.container(service).stop(timeout=timeout_s)
        return describe(self.container(service))

    def start_service(
        self, service: str, wait: bool = True, live_only: bool = False
    ) -> dict[str, Any]:
        """Start (or unpause) the service; with `wait`, until it is healthy (`live_only`:
        until its process answers, even if its database is unreachable)."""
        started = time.monotonic()
        container = self.container(service)
        container.reload()
        if container.status == "paused":
            container.unpause()
        elif container.status != "running":
            container.start()
        if wait:
            self._await(service, started, live_only)
            if service == "toxiproxy":
                ensure_proxies(parts.url(self.ports.toxiproxy), proxy_specs(), None)
        return describe(container)

    def restart_service(self, service: str, wait: bool = True) -> dict[str, Any]:
        started = time.monotonic()
        container = self.container(service)
        container.restart(timeout=STOP_TIMEOUT_S)
        if wait:
            self._await(service, started)
            if service == "toxiproxy":
                ensure_proxies(parts.url(self.ports.toxiproxy), proxy_specs(), None)
        return describe(container)

    def pause_service(self, service: str) -> dict[str, Any]:
        container = self.container(service)
        container.pause()
        return describe(container)

    def unpause_service(self, service: str) -> dict[str, Any]:
        container = self.container(service)
        container.reload()
        if container.status == "paused":
            container.unpause()
        return describe(container)

    def wait_docker_healthy(self, service: str, deadline_s: float = 30.0) -> dict[str, Any]:
        """Wait until the engine's own health check of `service` passes (it runs every few
        seconds, so it lags behind the host-side check after a fault)."""
        deadline = time.monotonic() + deadline_s
        while True:
            item = describe(self.container(service))
            if item["health"] in ("healthy", "none") or time.monotonic() >= deadline:
                return item
            time.sleep(0.5)

    def kill_service(self, service: str, signal: str = "SIGKILL") -> dict[str, Any]:
        container = self.container(service)
        container.kill(signal=signal)
        return describe(container)

    # --------------------------------------------------------------- helpers

    def _write_info(self, project: str, offline: bool, replicas: int) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        info = {
            "project": project,
            "offline": offline,
            "replicas": replicas,
            "compose_files": [str(path) for path in self.compose_files(offline)],
            "config_dir": str(self.config_dir),
        }
        (self.state_dir / DOCKER_FILE).write_text(json.dumps(info, indent=2) + "\n")

    def _offline(self) -> bool:
        return bool(self.docker_info().get("offline"))

    def _save(self, state: StackState, resolved: ResolvedProfile) -> StackState:
        state.profile = resolved.name
        state.budget = resolved.as_dict()
        write_state(self.state_dir, state)
        return state

    def _require_running(self) -> StackState:
        state = readable_state(self.state_dir)
        if state is None or state.env != "docker":
            raise UserError(
                f"no docker stack is running from {self.state_dir}: run `hubchaos up --env docker`"
            )
        return state


def _database_check(dsn: str) -> Check:
    def check() -> str | None:
        try:
            with psycopg.connect(dsn, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return str(exc).strip().splitlines()[0][:160] if str(exc).strip() else "unreachable"
        return None

    return check


def _wait_ports_free(wanted: dict[str, int], deadline_s: float) -> dict[int, str]:
    deadline = time.monotonic() + deadline_s
    while True:
        busy = {port: part for part, port in wanted.items() if not is_free(port)}
        if not busy or time.monotonic() >= deadline:
            return busy
        time.sleep(0.1)
