"""A private PostgreSQL cluster: initdb into a directory, start on loopback, stop.

It never touches a system cluster. PostgreSQL refuses to run as root, so when
we are root the server runs as the `postgres` system user (Debian creates it
with the postgresql package).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hubchaos.errors import StackError, UserError
from hubchaos.private.files import write_private

SUPERUSER = "hubchaos"
PASSWORD = "hubchaos"  # test clusters' default; a stack's cluster gets a random one


def find_pg_bin(name: str) -> str:
    """Path of a PostgreSQL server binary (initdb, pg_ctl, postgres)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    raise UserError(
        f"PostgreSQL binary '{name}' not found: install postgresql (Debian: apt-get install "
        "postgresql-15) or put its bin directory on PATH"
    )


def _run_as() -> tuple[Callable[[], None] | None, int | None, int | None]:
    """preexec function demoting to the postgres user when we are root."""
    if os.geteuid() != 0:
        return None, None, None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise UserError(
            "running as root needs a 'postgres' system user to own the database "
            "(useradd --system postgres)"
        ) from exc
    uid, gid = entry.pw_uid, entry.pw_gid

    def demote() -> None:
        os.setgid(gid)
        os.setuid(uid)

    return demote, uid, gid


def _make_traversable(path: Path) -> None:
    """The postgres user must be able to reach the data directory."""
    for parent in [path, *path.parents]:
        if str(parent) in ("/", ""):
            break
        try:
            mode = parent.stat().st_mode
            if mode & 0o001 == 0:
                parent.chmod(mode | 0o011)
        except PermissionError:
            break


@dataclass
class PostgresCluster:
    """One throwaway cluster in `base_dir` listening on 127.0.0.1:`port`."""

    base_dir: Path
    port: int
    max_connections: int = 100
    superuser_reserved_connections: int = 3
    settings: dict[str, str] = field(default_factory=dict)
    # Where the server log goes; default base_dir/postgres.log.
    log_path: Path | None = None
    password: str = PASSWORD

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.log_path if self.log_path is not None else self.base_dir / "postgres.log"

    def dsn(self, dbname: str = "postgres", application_name: str = "hubchaos") -> str:
        return (
            f"host=127.0.0.1 port={self.port} dbname={dbname} user={SUPERUSER} "
            f"password={self.password} application_name={application_name} connect_timeout=5"
        )

    def initdb(self) -> None:
        """Create the cluster unless it already exists (idempotent)."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        demote, uid, gid = _run_as()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        _make_traversable(self.base_dir)
        pwfile = self.base_dir / "pwfile"
        write_private(pwfile, self.password + "\n")
        if uid is not None and gid is not None:
            os.chown(self.base_dir, uid, gid)
            os.chown(pwfile, uid, gid)
        result = subprocess.run(
            [
                find_pg_bin("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--no-instructions",
            ],
            preexec_fn=demote,
            capture_output=True,
            text=True,
            check=False,
        )
        pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise StackError("postgres", f"initdb failed: {result.stderr.strip()[-300:]}")

    def _write_config(self) -> None:
        lines = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": "''",
            "max_connections": str(self.max_connections),
            "superuser_reserved_connections": str(self.superuser_reserved_connections),
            "fsync": "off",  # a throwaway cluster: durability is not what we test
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "64MB",
            "log_connections": "off",
            "track_activity_query_size": "1024",
            **self.settings,
        }
        text = "".join(f"{key} = {value}\n" for key, value in lines.items())
        (self.data_dir / "postgresql.auto.conf").write_text(text)
        _, uid, gid = _run_as()
        if uid is not None and gid is not None:
            os.chown(self.data_dir / "postgresql.auto.conf", uid, gid)

    def start(self, timeout: float = 60.0) -> None:
        self.initdb()
        self._write_config()
        demote, uid, gid = _run_as()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.touch()
        if uid is not None and gid is not None:
            os.chown(self.log_file, uid, gid)
        result = subprocess.run(
            [
                find_pg_bin("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
            preexec_fn=demote,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text(errors="replace").strip().splitlines()[-3:]
            raise StackError(
                "postgres",
                f"did not start on 127.0.0.1:{self.port}: {' | '.join(tail) or result.stderr}",
                str(self.log_file),
            )

    def is_running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()

    def stop(self, timeout: float = 30.0) -> None:
        if not self.is_running():
            return
        demote, _, _ = _run_as()
        subprocess.run(
            [
                find_pg_bin("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                str(int(timeout)),
                "stop",
            ],
            preexec_fn=demote,
            capture_output=True,
            check=False,
        )
