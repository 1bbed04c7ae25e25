"""The stack's PostgreSQL superuser password: random per stack, kept 0600 in its state directory.

Made once, when the cluster is first initialised, and kept as long as the
cluster is (`down` keeps both, `down --purge` removes both). It reaches
experiments through stack.json and `hubchaos env`, never through the docs.
A cluster initialised before passwords were random keeps the old one.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from hubchaos.private.files import private_dir, write_private

__all__ = ["PASSWORD_FILE", "superuser_password"]

PASSWORD_FILE = "superuser.password"
LEGACY_PASSWORD = "hubchaos"  # what clusters got before passwords were random


def superuser_password(state_dir: Path) -> str:
    """The superuser password of the stack in `state_dir`, made on first use."""
    path = state_dir / PASSWORD_FILE
    try:
        kept = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        return kept
    private_dir(state_dir)
    existing_cluster = (state_dir / "postgres" / "data" / "PG_VERSION").exists()
    # URL-safe, so it sits in a postgresql:// DSN without quoting
    password = LEGACY_PASSWORD if existing_cluster else secrets.token_urlsafe(24)
    write_private(path, password + "\n")
    return password
