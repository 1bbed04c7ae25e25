"""Health of the docker stack, seen from the host through the published ports.

A service is healthy when its container runs and its host-side check passes
(the same checks as the local stack's), running when the container runs but
the check fails or it is paused, down when there is no running container.
"""

from __future__ import annotations

from typing import Any

import psycopg

from hubchaos.stack.docker.config import proxy_specs
from hubchaos.stack.endpoints import SUPERUSER, db_dsn, url
from hubchaos.stack.ports import Ports
from hubchaos.stack.readiness import Check, http_check
from hubchaos.stack.state import StackState
from hubchaos.stack.status import PartStatus
from hubchaos.stack.toxiproxy_setup import missing_proxies

__all__ = ["endpoint", "host_check", "live_check", "proxy_statuses", "service_status"]


def host_check(ports: Ports, service: str, superuser_password: str) -> Check | None:
    """The health check of `service` through its published port (None: no such service);
    PostgreSQL's logs in with the stack's superuser password."""
    if service == "postgres":
        return _database_check(db_dsn(ports.postgres, SUPERUSER, superuser_password))
    if service.startswith("app-"):
        return http_check(f"{url(ports.replica(int(service[4:])))}/readyz")
    checks = {
        "toxiproxy": lambda: http_check(f"{url(ports.toxiproxy)}/version"),
        "receiver": lambda: http_check(f"{url(ports.receiver)}/healthz"),
        "alertmanager": lambda: http_check(f"{url(ports.alertmanager)}/-/ready"),
        "prometheus": lambda: http_check(f"{url(ports.prometheus)}/-/ready"),
        "exporter": lambda: http_check(f"{url(ports.exporter)}/metrics", "\npg_up 1"),
    }
    return checks[service]() if service in checks else None


def live_check(ports: Ports, service: str, superuser_password: str) -> Check | None:
    """Whether the service's process answers at all: an app replica's /healthz (it is
    alive even while PostgreSQL refuses it), the usual check for everything else."""
    if service.startswith("app-"):
        return http_check(f"{url(ports.replica(int(service[4:])))}/healthz")
    return host_check(ports, service, superuser_password)


def endpoint(ports: Ports, service: str) -> str:
    if service == "postgres":
        return f"127.0.0.1:{ports.postgres}"
    if service.startswith("app-"):
        return url(ports.replica(int(service[4:])))
    port = {
        "toxiproxy": ports.toxiproxy, "receiver": ports.receiver,
        "alertmanager": ports.alertmanager, "prometheus": ports.prometheus,
        "exporter": ports.exporter,
    }[service]  # fmt: skip
    return url(port)


def service_status(
    service: str, where: str, item: dict[str, Any] | None, check: Check
) -> PartStatus:
    """One service's status from its container's description (see containers.describe)."""
    if item is None:
        return PartStatus(service, "down", where, "no container")
    if item["paused"]:
        return PartStatus(service, "running", where, "container paused")
    if not item["running"]:
        detail = f"container {item['status']} (exit code {item['exit_code']})"
        return PartStatus(service, "down", where, detail)
    reason = check()
    detail = reason or f"docker health: {item['health']}"
    return PartStatus(service, "running" if reason else "healthy", where, detail)


def proxy_statuses(state: StackState, ports: Ports) -> list[PartStatus]:
    specs = proxy_specs()
    missing = set(missing_proxies(state.toxiproxy_url, specs))
    published = {"hub_db": ports.hub_db, "hub_web": ports.hub_web}
    statuses = []
    for spec in specs:
        where = f"127.0.0.1:{published[spec.name]} -> {spec.upstream}"
        word = "down" if spec.name in missing else "healthy"
        detail = "not configured" if spec.name in missing else ""
        statuses.append(PartStatus(f"{spec.name} proxy", word, where, detail))
    return statuses


def _database_check(dsn: str) -> Check:
    def check() -> str | None:
        try:
            with psycopg.connect(dsn, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return str(exc).strip().splitlines()[0][:160] if str(exc).strip() else "unreachable"
        return None

    return check
