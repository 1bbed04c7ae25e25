"""`hubchaos proxy`: the click command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hubchaos.proxy.errors import StartupError
from hubchaos.proxy.http import MAX_CONNECTIONS, REQUEST_TIMEOUT_S, Limits


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
@click.option(
    "--max-api-connections",
    default=MAX_CONNECTIONS,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Open control-API connections beyond this get 503.",
)
@click.option(
    "--api-request-timeout",
    default=REQUEST_TIMEOUT_S,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Seconds a control-API request may take to arrive, from its first byte (then 408).",
)
def proxy_command(
    host: str,
    port: int,
    config_file: Path | None,
    seed: int | None,
    max_api_connections: int,
    api_request_timeout: float,
) -> None:
    """Run the Toxiproxy-compatible fault proxy in the foreground (Ctrl-C stops it)."""
    from hubchaos.proxy.server import run

    limits = Limits(max_api_connections, api_request_timeout)
    try:
        run(host, port, config_file, seed, limits)
    except StartupError as exc:
        raise _CannotStart(str(exc)) from None
