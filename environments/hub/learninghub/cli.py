"""Command line: `learninghub serve` and `learninghub migrate`; errors are one line, exit 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from learninghub.errors import LearninghubError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learninghub",
        description="My Learning Hub: student dashboard and classroom chat over PostgreSQL.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the web app (settings from LEARNINGHUB_* environment variables)",
        description="Run the web app on uvicorn. Pool and database settings come from "
        "LEARNINGHUB_DSN, LEARNINGHUB_POOL_NAME, LEARNINGHUB_APPLICATION_NAME, "
        "LEARNINGHUB_POOL_MIN, LEARNINGHUB_POOL_MAX, LEARNINGHUB_POOL_TIMEOUT, "
        "LEARNINGHUB_POOL_MAX_WAITING, LEARNINGHUB_STATEMENT_TIMEOUT_MS, "
        "LEARNINGHUB_CONNECT_TIMEOUT and LEARNINGHUB_LOG_LEVEL.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    serve.add_argument(
        "--shared-port",
        type=int,
        default=0,
        metavar="PORT",
        help="also listen on PORT together with every other replica (SO_REUSEPORT): "
        "the kernel balances new connections over the replicas (0 = off, the default)",
    )

    migrate = commands.add_parser(
        "migrate",
        help="create the database, the app role, the schema and the seed data (idempotent)",
        description="Idempotent: a second run only re-applies the role settings and grants.",
    )
    migrate.add_argument(
        "--dsn", required=True, help="superuser connection string to the hub database"
    )
    migrate.add_argument(
        "--role-connection-limit",
        type=int,
        default=-1,
        metavar="N",
        help="CONNECTION LIMIT of the app role, set on every run (-1 = no limit, the default)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args.host, args.port, args.shared_port)
        return _migrate(args.dsn, args.role_connection_limit)
    except LearninghubError as exc:
        print(f"learninghub {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _serve(host: str, port: int, shared_port: int) -> int:
    from learninghub.server import serve  # uvicorn only when serving
    from learninghub.settings import Settings

    serve(host, port, Settings.from_env(), shared_port or None)
    return 0


def _migrate(dsn: str, role_connection_limit: int) -> int:
    from learninghub.migrate import migrate

    def progress(line: str) -> None:
        print(f"migrate: {line}", flush=True)

    result = migrate(dsn, role_connection_limit, progress=progress)
    counts = ", ".join(f"{count} {table}" for table, count in result.row_counts.items())
    action = "created and seeded" if result.seeded else "already up to date"
    print(f"migrate: database {result.database} {action} in {result.seconds:.1f} s ({counts})")
    return 0
