"""`.hubchaos/stack.json`: where a running stack's endpoints are written down.

Other commands (`status`, `down`, `hubchaos run`) and experiments read it; the
HUBCHAOS_* names of `experiment_env()` are the configuration keys experiments use.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from hubchaos.errors import UserError
from hubchaos.private.files import write_private
from hubchaos.stack.ports import port_offset_from_env

STATE_FILE = "stack.json"


@dataclass
class StackState:
    """Everything about one running local stack, as written to stack.json."""

    state_dir: str
    profile: str
    replicas: int
    toxiproxy_url: str
    app_url: str  # through the hub_web proxy
    app_replica_urls: list[str]
    db_dsn: str  # direct to PostgreSQL, superuser: for observation
    app_db_dsn: str  # what the app uses: through the hub_db proxy
    observer_dsn: str  # direct, non-superuser (pg_monitor): refused like the app when full
    prometheus_url: str
    alertmanager_url: str
    receiver_url: str
    exporter_url: str
    ports: dict[str, int]
    budget: dict[str, Any]
    toxiproxy: dict[str, str]  # kind (embedded|binary), binary/argv
    pids: dict[str, int]
    processes: dict[str, dict[str, Any]]  # name -> pid, argv, log_file (as in pids/NAME.json)
    logs: dict[str, str]
    started_at: str
    env: str = "local"
    port_offset: int = 0
    proxies: dict[str, dict[str, str]] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)  # an environment's own keys

    def experiment_env(self) -> dict[str, str]:
        """The Chaos Toolkit configuration keys (DESIGN §4) pointing at this stack."""
        return self.extra_env | {
            "HUBCHAOS_TOXIPROXY_URL": self.toxiproxy_url,
            "HUBCHAOS_APP_URL": self.app_url,
            "HUBCHAOS_APP_REPLICA_URLS": ",".join(self.app_replica_urls),
            "HUBCHAOS_APP_REPLICA_1_URL": next(iter(self.app_replica_urls), self.app_url),
            "HUBCHAOS_DB_DSN": self.db_dsn,
            "HUBCHAOS_OBSERVER_DSN": self.observer_dsn,
            "HUBCHAOS_FLOOD_DSN": self.app_db_dsn,
            "HUBCHAOS_PROMETHEUS_URL": self.prometheus_url,
            "HUBCHAOS_ALERTMANAGER_URL": self.alertmanager_url,
            "HUBCHAOS_RECEIVER_URL": self.receiver_url,
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["experiment_env"] = self.experiment_env()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StackState:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def state_path(state_dir: Path) -> Path:
    return state_dir / STATE_FILE


def write_state(state_dir: Path, state: StackState) -> Path:
    """Write atomically so a reader never sees half a file."""
    path = state_path(state_dir)
    # 0600: it holds the stack's DSNs and their passwords
    return write_private(path, json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n")


def read_state(state_dir: Path) -> StackState | None:
    """The recorded stack, or None when there is none."""
    path = state_path(state_dir)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path} is unreadable ({exc}): run `hubchaos down` to clean up") from exc
    try:
        return StackState.from_dict(data)
    except TypeError as exc:
        raise UserError(f"{path} is incomplete ({exc}): run `hubchaos down` to clean up") from exc


def readable_state(state_dir: Path) -> StackState | None:
    """read_state, with an unreadable stack.json read as none (the pidfiles still allow cleanup)."""
    try:
        return read_state(state_dir)
    except UserError:
        return None


def recorded_port_offset(state_dir: Path) -> int:
    """The port offset of the stack recorded in state_dir, else $HUBCHAOS_PORT_OFFSET, else 0."""
    recorded = readable_state(state_dir)
    return recorded.port_offset if recorded else port_offset_from_env()


def remove_state(state_dir: Path) -> None:
    state_path(state_dir).unlink(missing_ok=True)
