"""The stack's loopback ports, and finding out who holds one that is taken.

Defaults are the shared contract (COMMON.md). A port offset (`--port-offset`
or HUBCHAOS_PORT_OFFSET) shifts every port by the same amount so a second
stack, e.g. the test suite's, can run beside a developer's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

from hubchaos.errors import UserError

HOST = "127.0.0.1"
PORT_OFFSET_ENV = "HUBCHAOS_PORT_OFFSET"
MAX_OFFSET = 40000  # keeps 19187 + offset below 65535


@dataclass(frozen=True)
class Ports:
    toxiproxy: int = 8474
    postgres: int = 15432
    hub_db: int = 15433
    hub_web: int = 18000
    first_replica: int = 18001
    # Every replica also listens here (SO_REUSEPORT): hub_web's upstream, balanced by the kernel.
    replicas_shared: int = 18100
    prometheus: int = 19090
    alertmanager: int = 19093
    receiver: int = 19095
    exporter: int = 19187

    @classmethod
    def with_offset(cls, offset: int) -> Ports:
        if not -8000 <= offset <= MAX_OFFSET:
            raise UserError(f"port offset must be between -8000 and {MAX_OFFSET} (got {offset})")
        defaults = cls()
        return cls(**{name: port + offset for name, port in asdict(defaults).items()})

    def replica(self, index: int) -> int:
        """Port of replica `index` (1-based)."""
        return self.first_replica + index - 1

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def wanted(self, replicas: int) -> dict[str, int]:
        """Every port `up` will listen on, by the part that listens there."""
        wanted = {
            "toxiproxy": self.toxiproxy,
            "postgres": self.postgres,
            "hub_db proxy": self.hub_db,
            "hub_web proxy": self.hub_web,
            "app replicas (shared)": self.replicas_shared,
            "prometheus": self.prometheus,
            "alertmanager": self.alertmanager,
            "webhook receiver": self.receiver,
            "postgres exporter": self.exporter,
        }
        for index in range(1, replicas + 1):
            wanted[f"app-{index}"] = self.replica(index)
        return wanted


def port_offset_from_env() -> int:
    raw = os.environ.get(PORT_OFFSET_ENV, "0").strip() or "0"
    try:
        return int(raw)
    except ValueError as exc:
        raise UserError(f"{PORT_OFFSET_ENV} must be an integer (got '{raw}')") from exc


def is_free(port: int, host: str = HOST) -> bool:
    """True when nothing listens on host:port (TIME_WAIT leftovers don't count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
        return True


def is_listening(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_free(wanted: dict[str, int]) -> None:
    """UserError naming the first taken port, its intended part and who holds it."""
    for part, port in wanted.items():
        if not is_free(port):
            holder = who_listens(port)
            by = f" by {holder}" if holder else ""
            raise UserError(
                f"port {port} (needed for {part}) is already in use{by}: stop it, or move the "
                f"whole stack with --port-offset N / {PORT_OFFSET_ENV}"
            )


def who_listens(port: int) -> str | None:
    """'NAME (pid N)' of the process listening on `port`, when /proc lets us see it."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    proc = Path("/proc")
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return f"{_describe(entry)} (pid {entry.name})"
    return None


def _listening_inodes(port: int) -> set[str]:
    listen_state = "0A"
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == listen_state and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    return inodes


def _describe(proc_dir: Path) -> str:
    try:
        argv = (proc_dir / "cmdline").read_bytes().split(b"\0")
        words = [part.decode(errors="replace") for part in argv if part]
    except OSError:
        words = []
    if not words:
        return "a process"
    text = " ".join(Path(words[0]).name if i == 0 else w for i, w in enumerate(words[:4]))
    return f"'{text[:80]}'"
