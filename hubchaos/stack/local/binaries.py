"""Locating the external programs the local stack runs, before anything starts.

A missing program is a UserError naming the Debian package that provides it,
so `up` fails in one line instead of halfway through.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from hubchaos.errors import UserError
from hubchaos.stack.local.postgres import find_pg_bin

# program -> (names to look for on PATH, Debian package)
PROGRAMS: dict[str, tuple[tuple[str, ...], str]] = {
    "prometheus": (("prometheus",), "prometheus"),
    "alertmanager": (("prometheus-alertmanager", "alertmanager"), "prometheus-alertmanager"),
    "postgres exporter": (
        ("prometheus-postgres-exporter", "postgres_exporter"),
        "prometheus-postgres-exporter",
    ),
}


def find_program(program: str) -> str:
    names, package = PROGRAMS[program]
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise UserError(
        f"{program} not found on PATH: install the Debian package '{package}' "
        "(./scripts/setup does it)"
    )


@dataclass(frozen=True)
class Binaries:
    prometheus: str
    alertmanager: str
    exporter: str
    pg_ctl: str

    @classmethod
    def locate(cls) -> Binaries:
        try:
            pg_ctl = find_pg_bin("pg_ctl")
            find_pg_bin("initdb")
            find_pg_bin("postgres")
        except UserError as exc:
            raise UserError(f"{exc} (./scripts/setup does it)") from exc
        return cls(
            prometheus=find_program("prometheus"),
            alertmanager=find_program("alertmanager"),
            exporter=find_program("postgres exporter"),
            pg_ctl=pg_ctl,
        )


def toxiproxy_server_on_path() -> str | None:
    return shutil.which("toxiproxy-server")


def check_executable(path: str) -> str:
    """The --toxiproxy PATH form: an existing executable file, as an absolute path."""
    candidate = Path(path).expanduser()
    if not candidate.is_file():
        found = shutil.which(path)
        if found is None:
            raise UserError(
                f"--toxiproxy {path}: no such file; pass auto, embedded or the path of "
                "a toxiproxy-server binary"
            )
        candidate = Path(found)
    if not os.access(candidate, os.X_OK):
        raise UserError(f"--toxiproxy {path}: not executable (chmod +x it)")
    return str(candidate.resolve())


def resolve_toxiproxy(choice: str) -> str | None:
    """The toxiproxy-server binary to run, or None for the embedded server."""
    if choice == "embedded":
        return None
    if choice == "auto":
        return toxiproxy_server_on_path()
    return check_executable(choice)
