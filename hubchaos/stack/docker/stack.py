"""The hub stack in Docker: `hubchaos up --env docker [--offline]`, driven through the Docker API.

`DockerStack` is a StackDriver like `LocalStack` (up, status, down,
set_profile, scale, restart, state) and writes the same `stack.json`, with
every endpoint published on 127.0.0.1 at the local stack's ports, so every
experiment runs unchanged against either. It also gives experiments their
container faults (hubchaos.stack.docker.faults).

What runs comes from environments/docker/compose.yaml (plus
compose.offline.yaml with --offline), read by hubchaos.stack.docker.compose;
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
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hubchaos.errors import StackError, UserError
from hubchaos.stack.base import BaseStack
from hubchaos.stack.credentials import superuser_password
from hubchaos.stack.docker import health
from hubchaos.stack.docker.compose import ServiceSpec, compose_files, load_compose
from hubchaos.stack.docker.config import proxy_specs, render_configs
from hubchaos.stack.docker.containers import Project, connect, describe
from hubchaos.stack.docker.faults import STOP_TIMEOUT_S, ContainerFaults
from hubchaos.stack.docker.images import ensure_images
from hubchaos.stack.docker.variables import compose_variables
from hubchaos.stack.driver import DEFAULT_PROFILE, DEFAULT_REPLICAS, DEFAULT_STATE_DIR
from hubchaos.stack.endpoints import endpoints, replica_urls, url
from hubchaos.stack.ports import ensure_free
from hubchaos.stack.profiles import Profiles, ResolvedProfile
from hubchaos.stack.readiness import Check, Progress, http_check, wait_ready
from hubchaos.stack.state import StackState, readable_state, remove_state, write_state
from hubchaos.stack.state_lock import state_lock
from hubchaos.stack.status import PartStatus, StackStatus
from hubchaos.stack.toxiproxy_setup import ensure_proxies

__all__ = ["DOCKER_FILE", "DockerStack", "docker_project_name"]

DOCKER_FILE = "docker.json"
MIGRATE = "migrate"
EARLY = ("postgres", "toxiproxy", "receiver", "alertmanager", "prometheus")
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


class DockerStack(BaseStack, ContainerFaults):
    """The hub stack as containers of one compose project (see the module docstring)."""

    env = "docker"
    PORTS_RELEASE_S = 10.0

    def __init__(
        self,
        state_dir: Path | str = DEFAULT_STATE_DIR,
        port_offset: int | None = None,
        progress: Progress | None = None,
        profiles: Profiles | None = None,
    ) -> None:
        super().__init__(state_dir, port_offset, progress, profiles)
        self._client: Any = None

    # ------------------------------------------------------------ plumbing

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

    def docker_info(self) -> dict[str, Any]:
        """docker.json: project, offline, compose files, services (empty when absent)."""
        try:
            data = json.loads((self.state_dir / DOCKER_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def compose_files(self, offline: bool) -> list[Path]:
        return compose_files(offline)

    def specs(self, resolved: ResolvedProfile, offline: bool) -> list[ServiceSpec]:
        """The stack's containers for a profile applied to a replica count."""
        password = superuser_password(self.state_dir)
        variables = compose_variables(self.ports, resolved, self.config_dir, password)
        return load_compose(self.compose_files(offline), variables, resolved.replicas)

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
        started = time.monotonic()
        specs: dict[str, ServiceSpec] = {}

        def build() -> None:
            specs.update({spec.name: spec for spec in self.specs(resolved, offline)})
            ensure_images(self.client, specs.values(), offline, self.progress)

        state = self._bring_up(resolved, lambda: self._start(resolved, specs, offline), build)
        if specs:  # not when an already running stack was reused
            self.progress(f"hub stack up in {time.monotonic() - started:.1f}s (docker)")
        return state

    # What BaseStack asks of a driver: are parts alive, what is left over, how to stop all.

    def _has_running_parts(self) -> bool:
        return bool(self.project.containers())

    def _has_leftovers(self) -> bool:
        return self._has_running_parts()

    def _ports_to_free(self) -> dict[str, int]:
        return self.ports.wanted(max(1, int(self.docker_info().get("replicas", 1))))

    def _teardown(self, state: StackState | None) -> list[str]:
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
        ensure_proxies(url(self.ports.toxiproxy), proxy_specs(), None)
        late = ["exporter", *(name for name in specs if specs[name].is_replica)]
        for name in late:
            clock[name] = time.monotonic()
            project.run(specs[name])
        for name in [*EARLY[2:], *late]:
            self._await(name, clock[name])
        wait_ready(
            "hub_web proxy", http_check(f"{url(self.ports.hub_web)}/healthz"), 30.0,
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
            toxiproxy_url=url(ports.toxiproxy),
            **endpoints(ports, resolved.replicas, superuser_password(self.state_dir)),
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
        check = health.host_check(self.ports, service, superuser_password(self.state_dir))
        if check is None:
            raise UserError(
                f"unknown service '{service}': choose one of {', '.join(self.services())}"
            )
        return check

    def live_check(self, service: str) -> Check:
        """An app replica's /healthz (alive without its database), else `check`."""
        password = superuser_password(self.state_dir)
        return health.live_check(self.ports, service, password) or self.check(service)

    def endpoint(self, service: str) -> str:
        return health.endpoint(self.ports, service)

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
        statuses = [
            health.service_status(
                service, self.endpoint(service), found.get(service), self.check(service)
            )
            for service in self.services()
        ]
        statuses.extend(health.proxy_statuses(state, self.ports))
        return StackStatus(statuses, state)

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
            state.app_replica_urls = replica_urls(self.ports, replicas)
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
