"""The docker stack's one-shot `migrate` service: schema, seed and roles.

Runs inside the runtime image (compose.yaml mounts this file):
`python3 -m learninghub migrate` (the app's own
idempotent migration, with the profile's CONNECTION LIMIT for the app role),
then the observers' role, a non-superuser with pg_monitor that is refused like
the app when the ordinary slots run out (as hubchaos.stack.local.database does for
the local stack).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import psycopg

OBSERVER_ROLE = "hubchaos_observer"
OBSERVER_PASSWORD = "hubchaos_observer"  # throwaway stack, published on 127.0.0.1 only
CONNECT_DEADLINE_S = 60.0
MIGRATE_TIMEOUT_S = 300.0


def wait_for_database(dsn: str, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with psycopg.connect(dsn, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.Error as exc:
            if time.monotonic() >= deadline:
                raise SystemExit(f"migrate: PostgreSQL not reachable: {exc}") from None
        time.sleep(0.5)


def ensure_observer_role(dsn: str, limit: int) -> None:
    with psycopg.connect(dsn, connect_timeout=10, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (OBSERVER_ROLE,))
        if exists.fetchone() is None:
            conn.execute(f'CREATE ROLE "{OBSERVER_ROLE}" LOGIN')
        conn.execute(
            f'ALTER ROLE "{OBSERVER_ROLE}" LOGIN NOSUPERUSER '
            f"PASSWORD '{OBSERVER_PASSWORD}' CONNECTION LIMIT {int(limit)}"
        )
        conn.execute(f'GRANT pg_monitor TO "{OBSERVER_ROLE}"')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 migrate.py")
    parser.add_argument("--dsn", required=True, help="superuser DSN of the hub database")
    parser.add_argument("--role-connection-limit", type=int, default=-1)
    parser.add_argument("--observer-limit", type=int, default=6)
    args = parser.parse_args(argv)
    wait_for_database(args.dsn, CONNECT_DEADLINE_S)
    result = subprocess.run(
        [sys.executable, "-m", "learninghub", "migrate", "--dsn", args.dsn,
         "--role-connection-limit", str(args.role_connection_limit)],
        stdin=subprocess.DEVNULL, timeout=MIGRATE_TIMEOUT_S, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        return result.returncode
    ensure_observer_role(args.dsn, args.observer_limit)
    print("migrate: done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
