"""The stack's PostgreSQL: its private cluster, the migration and the observer role.

The cluster lives in <state>/postgres and survives `down` (not `down --purge`),
so a warm `up` skips initdb and the seed. Its max_connections and reserved
slots come from the budget in profiles.yaml.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from hubchaos.errors import StackError
from hubchaos.polling import poll_until
from hubchaos.stack import endpoints
from hubchaos.stack.credentials import superuser_password
from hubchaos.stack.local.layout import Layout
from hubchaos.stack.local.postgres import PostgresCluster
from hubchaos.stack.profiles import Budget, ResolvedProfile
from hubchaos.stack.readiness import Progress, tail

START_DEADLINE_S = 60.0
MIGRATE_DEADLINE_S = 300.0

# The SQLSTATE (%e) in every log line makes "53300 too many clients" greppable;
# user, database and application name tell the replicas and observers apart.
POSTGRES_SETTINGS = {"log_line_prefix": "'%m [%p] %e %u@%d %a '"}


@dataclass(frozen=True)
class StackDatabase:
    layout: Layout
    port: int
    budget: Budget
    progress: Progress

    @property
    def cluster(self) -> PostgresCluster:
        return PostgresCluster(
            base_dir=self.layout.postgres,
            port=self.port,
            max_connections=self.budget.max_connections,
            superuser_reserved_connections=self.budget.superuser_reserved_connections,
            settings=dict(POSTGRES_SETTINGS),
            log_path=self.layout.log("postgres"),
            password=superuser_password(self.layout.root),
        )

    @property
    def superuser_dsn(self) -> str:
        return endpoints.db_dsn(
            self.port, endpoints.SUPERUSER, superuser_password(self.layout.root)
        )

    @property
    def log_file(self) -> Path:
        return self.layout.log("postgres")

    def start(self) -> None:
        started = time.monotonic()
        cluster = self.cluster
        fresh = not (cluster.data_dir / "PG_VERSION").exists()
        self.progress(f"starting postgres{' (first start: initdb)' if fresh else ''} ...")
        cluster.start(timeout=START_DEADLINE_S)
        self.progress(f"waiting for postgres ... ready in {time.monotonic() - started:.1f}s")

    def pid(self) -> int | None:
        """The live postmaster of our data directory (checked against /proc: pids get reused)."""
        data_dir = self.cluster.data_dir
        try:
            pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if str(data_dir).encode() in cmdline else None

    def stop(self) -> bool:
        """pg_ctl stop (fast); if that fails, immediate shutdown, then SIGKILL. True if it ran."""
        cluster = self.cluster
        if not cluster.is_running():
            return False
        cluster.stop(timeout=30.0)
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            pid = self.pid()
            if pid is None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            poll_until(
                lambda _left: self.pid(), 5.0, 0.05, done=lambda pid: pid is None,
                look_at_deadline=True,
            )  # fmt: skip
        return True

    def check(self) -> str | None:
        """None when a superuser login and a query work, else why not."""
        try:
            with psycopg.connect(self.superuser_dsn, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return str(exc).strip().splitlines()[0][:160]
        return None

    def migrate(self, resolved: ResolvedProfile) -> None:
        """Schema + seed (idempotent) and the app role's CONNECTION LIMIT for the profile."""
        started = time.monotonic()
        log = self.layout.log("migrate")
        limit = resolved.role_connection_limit
        argv = [
            sys.executable, "-m", "learninghub", "migrate", "--dsn", self.superuser_dsn,
            "--role-connection-limit", str(limit),
        ]  # fmt: skip
        shown = "none" if limit < 0 else str(limit)
        self.progress(f"migrating the learninghub database (app role connection limit {shown}) ...")
        with log.open("ab") as out:
            out.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} migrate\n".encode())
            out.flush()
            try:
                result = subprocess.run(
                    argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    timeout=MIGRATE_DEADLINE_S, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired as exc:
                raise StackError(
                    "migrate", f"did not finish within {MIGRATE_DEADLINE_S:g}s", str(log)
                ) from exc
        if result.returncode != 0:
            raise StackError("migrate", f"exited with {result.returncode}: {tail(log)}", str(log))
        elapsed = time.monotonic() - started
        self.progress(f"migrating the learninghub database ... done in {elapsed:.1f}s")

    def ensure_observer_role(self) -> None:
        """A non-superuser login (pg_monitor) for probes and humans, limited to their slots.

        Being an ordinary role it is refused exactly like the app when the
        non-reserved slots run out, which is what a login probe wants to see.
        """
        slots = self.budget.observer_slots
        limit = sum(count for name, count in slots.items() if name != "exporter") or 1
        role = endpoints.OBSERVER_ROLE
        try:
            with psycopg.connect(self.superuser_dsn, connect_timeout=10, autocommit=True) as conn:
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                if exists.fetchone() is None:
                    conn.execute(f'CREATE ROLE "{role}" LOGIN')
                conn.execute(
                    f'ALTER ROLE "{role}" LOGIN NOSUPERUSER '
                    f"PASSWORD '{endpoints.OBSERVER_PASSWORD}' CONNECTION LIMIT {int(limit)}"
                )
                conn.execute(f'GRANT pg_monitor TO "{role}"')
        except psycopg.Error as exc:
            raise StackError(
                "postgres", f"creating the observer role failed: {exc}", str(self.log_file)
            ) from exc
