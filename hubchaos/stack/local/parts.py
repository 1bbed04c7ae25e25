"""The long-running processes of the local stack: how each is started and checked.

A `ProcessPart` is pure data (argv, environment, health check, endpoint);
LocalStack spawns and supervises it. Keeping the command lines here keeps the
orchestration in local.py readable.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

from hubchaos.errors import UserError
from hubchaos.stack import monitoring
from hubchaos.stack.endpoints import (
    APP_DB,
    APP_PASSWORD,
    APP_ROLE,
    SUPERUSER,
    SUPERUSER_PASSWORD,
    db_dsn,
    replica_name,
    url,
)
from hubchaos.stack.local.binaries import Binaries
from hubchaos.stack.local.layout import Layout
from hubchaos.stack.ports import HOST, Ports
from hubchaos.stack.profiles import PoolSettings
from hubchaos.stack.readiness import Check, http_check


@dataclass(frozen=True)
class ProcessPart:
    name: str
    argv: list[str]
    check: Check
    endpoint: str
    deadline_s: float
    env: dict[str, str] = field(default_factory=dict)


def toxiproxy_part(ports: Ports, binary: str | None) -> ProcessPart:
    """The fault proxy: the real toxiproxy-server when `binary`, else the embedded one."""
    if binary:
        argv = [binary, "-host", HOST, "-port", str(ports.toxiproxy)]
    else:
        argv = [
            sys.executable, "-m", "hubchaos", "proxy",
            "--host", HOST, "--port", str(ports.toxiproxy),
        ]  # fmt: skip
    api = url(ports.toxiproxy)
    return ProcessPart("toxiproxy", argv, http_check(f"{api}/version"), api, 20.0)


def receiver_part(ports: Ports, layout: Layout) -> ProcessPart:
    endpoint = url(ports.receiver)
    argv = [
        sys.executable, str(monitoring.webhook_receiver_program()),
        "--host", HOST, "--port", str(ports.receiver),
        "--out", str(layout.receiver / "notifications.jsonl"),
    ]  # fmt: skip
    return ProcessPart("receiver", argv, http_check(f"{endpoint}/healthz"), endpoint, 20.0)


def alertmanager_part(ports: Ports, layout: Layout, binaries: Binaries) -> ProcessPart:
    endpoint = url(ports.alertmanager)
    argv = [
        binaries.alertmanager,
        f"--config.file={layout.alertmanager / 'alertmanager.yml'}",
        f"--storage.path={layout.alertmanager / 'data'}",
        f"--web.listen-address={HOST}:{ports.alertmanager}",
        "--cluster.listen-address=",  # a single instance: no gossip port
        "--log.level=warn",
    ]
    return ProcessPart("alertmanager", argv, http_check(f"{endpoint}/-/ready"), endpoint, 30.0)


def prometheus_part(ports: Ports, layout: Layout, binaries: Binaries) -> ProcessPart:
    endpoint = url(ports.prometheus)
    argv = [
        binaries.prometheus,
        f"--config.file={layout.prometheus / 'prometheus.yml'}",
        f"--storage.tsdb.path={layout.prometheus / 'data'}",
        "--storage.tsdb.retention.time=1d",
        f"--web.listen-address={HOST}:{ports.prometheus}",
        "--log.level=warn",
    ]
    return ProcessPart("prometheus", argv, http_check(f"{endpoint}/-/ready"), endpoint, 60.0)


def exporter_part(
    ports: Ports, binaries: Binaries, superuser_password: str = SUPERUSER_PASSWORD
) -> ProcessPart:
    """prometheus-postgres-exporter 0.11 on the direct DB as superuser.

    As superuser it can still log in through the reserved slots when the app
    has taken every other one, so the database side stays observable during
    the incident. The bgwriter and database-size collectors are off: no alert
    uses them and they cost a query per scrape.
    """
    endpoint = url(ports.exporter)
    argv = [
        binaries.exporter,
        f"--web.listen-address={HOST}:{ports.exporter}",
        "--no-collector.bgwriter",
        "--no-collector.database",
        "--log.level=warn",
        # pg_connections_by_client_count: who holds the connections (the diagnosis reads it)
        f"--extend.query-path={monitoring.monitoring_dir() / 'exporter-queries.yaml'}",
    ]
    dsn = (
        f"postgresql://{SUPERUSER}:{superuser_password}@{HOST}:{ports.postgres}/{APP_DB}"
        "?sslmode=disable&application_name=postgres-exporter"
    )
    return ProcessPart(
        "exporter",
        argv,
        http_check(f"{endpoint}/metrics", expect_text="\npg_up 1"),
        endpoint,
        30.0,
        env={"DATA_SOURCE_NAME": dsn},
    )


def app_part(ports: Ports, index: int, pool: PoolSettings) -> ProcessPart:
    """Replica `index` of learninghub; its database traffic goes through hub_db."""
    name = replica_name(index)
    port = ports.replica(index)
    endpoint = url(port)
    argv = [sys.executable, "-m", "learninghub", "serve", "--host", HOST, "--port", str(port),
            "--shared-port", str(ports.replicas_shared)]  # fmt: skip
    env = {
        "LEARNINGHUB_DSN": db_dsn(ports.hub_db, APP_ROLE, APP_PASSWORD),
        "LEARNINGHUB_POOL_NAME": name,
        "LEARNINGHUB_APPLICATION_NAME": f"learninghub-{name}",
        **pool.env(),
    }
    return ProcessPart(name, argv, http_check(f"{endpoint}/readyz"), endpoint, 60.0, env=env)


def prometheus_targets(ports: Ports, replicas: int) -> dict[str, list[str]]:
    """What Prometheus scrapes, by job (host:port)."""
    return {
        "apps": [f"{HOST}:{ports.replica(i)}" for i in range(1, replicas + 1)],
        "exporter": [f"{HOST}:{ports.exporter}"],
        "alertmanager": [f"{HOST}:{ports.alertmanager}"],
        "toxiproxy": [f"{HOST}:{ports.toxiproxy}"],
    }


def config_paths(layout: Layout) -> dict[str, Path]:
    return {
        "prometheus": layout.prometheus / "prometheus.yml",
        "alertmanager": layout.alertmanager / "alertmanager.yml",
    }


def require_app() -> None:
    if importlib.util.find_spec("learninghub") is None:
        raise UserError(
            "the learninghub app is not installed: pip install -e environments/hub "
            "(./scripts/setup does it)"
        )
