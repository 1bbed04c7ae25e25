"""`hubchaos proxy`: the click command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hubchaos.proxy.errors import StartupError


class _CannotStart(click.ClickException):
    """A StartupError shown the way every hubchaos command shows a user error."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"hubchaos: error: {self.message}", err=True)


@click.command("proxy")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of the HTTP API.")
@click.option(
    "--port", default=8474, show_default=True, type=click.IntRange(0, 65535), help="API port."
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON list of proxies (Toxiproxy format, plus optional `toxics`) to create at start.",
)
@click.option(
    "--seed",
    type=int,
    help="Make toxic randomness (toxicity, jitter, slice sizes) reproducible.",
)
def proxy_command(host: str, port: int, config_file: Path | None, seed: int | None) -> None:
    """Run the Toxiproxy-compatible fault proxy in the foreground (Ctrl-C stops it)."""
    from hubchaos.proxy.server import run

    try:
        run(host, port, config_file, seed)
    except StartupError as exc:
        raise _CannotStart(str(exc)) from None
