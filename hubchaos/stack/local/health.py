"""`hubchaos status` of the local stack: every part as healthy, running or down.

healthy  the process is ours and alive, and its health check passes
running  the process is alive but the check fails (the detail says why)
down     no live process (or, for a proxy, not configured)
"""

from __future__ import annotations

from hubchaos.stack.endpoints import replica_name
from hubchaos.stack.local.database import StackDatabase
from hubchaos.stack.local.processes import ProcessTable, is_ours
from hubchaos.stack.ports import Ports, is_free
from hubchaos.stack.readiness import Check, http_check
from hubchaos.stack.state import StackState
from hubchaos.stack.status import PartStatus, StackStatus
from hubchaos.stack.toxiproxy_setup import ProxySpec, missing_proxies
from hubchaos.stack.upstream_health import upstream_problem


def proxy_specs(ports: Ports) -> list[ProxySpec]:
    """hub_db: app -> PostgreSQL; hub_web: clients -> every live replica (a shared port)."""
    host = "127.0.0.1"
    return [
        ProxySpec("hub_db", f"{host}:{ports.hub_db}", f"{host}:{ports.postgres}"),
        ProxySpec("hub_web", f"{host}:{ports.hub_web}", f"{host}:{ports.replicas_shared}"),
    ]


def process_checks(state: StackState) -> list[tuple[str, Check, str]]:
    """(part, health check, endpoint) of every spawned process of the stack."""
    checks = [
        ("toxiproxy", http_check(f"{state.toxiproxy_url}/version"), state.toxiproxy_url),
        ("receiver", http_check(f"{state.receiver_url}/healthz"), state.receiver_url),
        ("alertmanager", http_check(f"{state.alertmanager_url}/-/ready"), state.alertmanager_url),
        ("prometheus", http_check(f"{state.prometheus_url}/-/ready"), state.prometheus_url),
        ("exporter", http_check(f"{state.exporter_url}/metrics", "\npg_up 1"), state.exporter_url),
    ]
    for index, replica_url in enumerate(state.app_replica_urls, start=1):
        checks.append((replica_name(index), http_check(f"{replica_url}/readyz"), replica_url))
    return checks


def collect_status(state: StackState, table: ProcessTable, database: StackDatabase) -> StackStatus:
    ports = Ports(**state.ports)
    statuses = [_database_status(database, ports)]
    for name, check, endpoint in process_checks(state):
        record = table.record(name)
        if record is None or not is_ours(record):
            statuses.append(PartStatus(name, "down", endpoint, "process not running"))
            continue
        reason = check()
        state_word = "healthy" if reason is None else "running"
        statuses.append(PartStatus(name, state_word, endpoint, reason or "", record.pid))
    statuses.extend(_proxy_statuses(state, ports))
    return StackStatus(statuses, state)


def leftover_status(table: ProcessTable) -> StackStatus:
    """Processes recorded by an `up` that never finished (no stack.json)."""
    leftovers = [record for record in table.records() if is_ours(record)]
    return StackStatus(
        [
            PartStatus(r.name, "running", "", "left over from an interrupted up", r.pid)
            for r in leftovers
        ],
        None,
    )


def _database_status(database: StackDatabase, ports: Ports) -> PartStatus:
    endpoint = f"127.0.0.1:{ports.postgres}"
    pid = database.pid()
    if pid is None:
        return PartStatus("postgres", "down", endpoint, "not running")
    reason = database.check()
    return PartStatus("postgres", "healthy" if reason is None else "running", endpoint,
                      reason or "", pid)  # fmt: skip


def _proxy_statuses(state: StackState, ports: Ports) -> list[PartStatus]:
    specs = proxy_specs(ports)
    missing = set(missing_proxies(state.toxiproxy_url, specs))
    statuses = []
    for spec in specs:
        name = f"{spec.name} proxy"
        endpoint = f"{spec.listen} -> {spec.upstream}"
        if spec.name in missing:
            statuses.append(PartStatus(name, "down", endpoint, "not configured"))
        elif is_free(int(spec.listen.rsplit(":", 1)[1])):
            statuses.append(PartStatus(name, "running", endpoint, "configured, not listening"))
        elif reason := upstream_problem(spec):  # a proxy is only as healthy as what it forwards to
            statuses.append(PartStatus(name, "running", endpoint, reason))
        else:
            statuses.append(PartStatus(name, "healthy", endpoint))
    return statuses
