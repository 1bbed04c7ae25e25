"""The undo of a database flood: end its sessions if the process that held them died.

A flood's sockets close with its process, but a session behind a stalled
proxy can outlive the client for a while; the switch ends every session of
the flood's `application_name` through the observer DSN (configuration
`hubchaos_db_dsn`), which reaches PostgreSQL directly.
"""

from __future__ import annotations

from typing import Any

from hubchaos.activity.settings import setting

__all__ = ["flood_undo"]


def flood_undo(application_name: str, configuration: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "action": "flood.process",
        "application_name": application_name,
        "observer_dsn": setting("hubchaos_db_dsn", configuration),
    }
