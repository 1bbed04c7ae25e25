"""Where activities and controls find the stack: argument, configuration, environment
(the key upper-cased), then defaults.

The defaults match `hubchaos up --env local`, so a plain `chaos run` works
against a locally started stack without any configuration.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hubchaos.stack.driver import DEFAULT_STATE_DIR

__all__ = [
    "DEFAULTS",
    "REPLICAS_KEY",
    "STATE_DIR_KEY",
    "app_replica_urls",
    "app_url",
    "flood_dsn",
    "observer_dsn",
    "setting",
    "target_state_dir",
]

DEFAULTS: dict[str, str] = {
    "hubchaos_toxiproxy_url": "http://127.0.0.1:8474",
    "hubchaos_app_url": "http://127.0.0.1:18000",
    "hubchaos_db_dsn": "postgresql://hubchaos:hubchaos@127.0.0.1:15432/learninghub",
    # a non-superuser: refused like any other client when PostgreSQL is full
    "hubchaos_observer_dsn": (
        "postgresql://hubchaos_observer:hubchaos_observer@127.0.0.1:15432/learninghub"
    ),
    # the faithful flood logs in like the app did: its role, through the hub_db proxy
    "hubchaos_flood_dsn": "postgresql://learninghub:learninghub@127.0.0.1:15433/learninghub",
    "hubchaos_prometheus_url": "http://127.0.0.1:19090",
    "hubchaos_alertmanager_url": "http://127.0.0.1:19093",
    "hubchaos_receiver_url": "http://127.0.0.1:19095",
}


def setting(
    key: str, configuration: dict[str, Any] | None = None, default: str | None = None
) -> str:
    """The value of `key` (e.g. "hubchaos_app_url") for this run.

    `default` serves keys without a stack default (the state directory, the port offset).
    """
    if configuration and configuration.get(key):
        return str(configuration[key])
    env_value = os.environ.get(key.upper())
    if env_value:
        return env_value
    return DEFAULTS[key] if default is None else default


def app_url(url: str, configuration: dict[str, Any] | None) -> str:
    """The application's base URL: the argument or `hubchaos_app_url`."""
    return url or setting("hubchaos_app_url", configuration)


def observer_dsn(dsn: str, configuration: dict[str, Any] | None) -> str:
    """DSN for observing PostgreSQL: the argument or `hubchaos_db_dsn`."""
    return dsn or setting("hubchaos_db_dsn", configuration)


def flood_dsn(dsn: str, configuration: dict[str, Any] | None) -> str:
    """DSN the login flood uses: the argument or `hubchaos_flood_dsn`."""
    return dsn or setting("hubchaos_flood_dsn", configuration)


REPLICAS_KEY = "hubchaos_app_replica_urls"


def app_replica_urls(
    app_urls: list[str] | str | None, configuration: dict[str, Any] | None = None
) -> list[str]:
    """Base URLs of every app replica: the argument, else configuration
    `hubchaos_app_replica_urls` (list or comma string), else env
    HUBCHAOS_APP_REPLICA_URLS, else the single `hubchaos_app_url`."""
    raw: Any = app_urls
    if not raw and configuration:
        raw = configuration.get(REPLICAS_KEY)
    if not raw:
        raw = os.environ.get(REPLICAS_KEY.upper())
    if not raw:
        raw = setting("hubchaos_app_url", configuration)
    items = raw.split(",") if isinstance(raw, str) else raw
    return [str(item).strip().rstrip("/") for item in items if str(item).strip()]


STATE_DIR_KEY = "hubchaos_state_dir"


def target_state_dir(configuration: dict[str, Any] | None) -> Path:
    """The state directory of the stack this run targets."""
    return Path(setting(STATE_DIR_KEY, configuration, str(DEFAULT_STATE_DIR)))
