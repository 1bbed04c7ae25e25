"""The stack's addresses, the same for every environment that publishes its ports on loopback.

Roles and passwords are the throwaway stack's (published on 127.0.0.1 only).
"""

from __future__ import annotations

from typing import Any

from hubchaos.stack.ports import HOST, Ports

APP_DB = "learninghub"
APP_ROLE = "learninghub"
APP_PASSWORD = "learninghub"  # loopback-only throwaway cluster (COMMON.md)
OBSERVER_ROLE = "hubchaos_observer"
OBSERVER_PASSWORD = "hubchaos_observer"
SUPERUSER = "hubchaos"
SUPERUSER_PASSWORD = "hubchaos"  # clusters made before passwords were random (credentials.py)


def url(port: int) -> str:
    return f"http://{HOST}:{port}"


def db_dsn(port: int, user: str, password: str, dbname: str = APP_DB) -> str:
    return f"postgresql://{user}:{password}@{HOST}:{port}/{dbname}"


def replica_urls(ports: Ports, replicas: int) -> list[str]:
    return [url(ports.replica(i)) for i in range(1, replicas + 1)]


def endpoints(
    ports: Ports, replicas: int, superuser_password: str = SUPERUSER_PASSWORD
) -> dict[str, Any]:
    """The stack state's addresses, the same for every environment that publishes `ports`."""
    return {
        "app_url": url(ports.hub_web),
        "app_replica_urls": replica_urls(ports, replicas),
        "db_dsn": db_dsn(ports.postgres, SUPERUSER, superuser_password),
        "app_db_dsn": db_dsn(ports.hub_db, APP_ROLE, APP_PASSWORD),
        "observer_dsn": db_dsn(ports.postgres, OBSERVER_ROLE, OBSERVER_PASSWORD),
        "prometheus_url": url(ports.prometheus),
        "alertmanager_url": url(ports.alertmanager),
        "receiver_url": url(ports.receiver),
        "exporter_url": url(ports.exporter),
        "ports": ports.as_dict(),
    }


def replica_name(index: int) -> str:
    return f"app-{index}"
