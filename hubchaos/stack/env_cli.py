"""`hubchaos env`: the running stack's variables as shell `export` lines, for plain `chaos run`.

Each stack has its own random database password, so the experiments'
built-in defaults cannot log in; `eval "$(hubchaos env)"` puts the stack's
real endpoints (stack.json's HUBCHAOS_* keys) into the shell instead.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from hubchaos.errors import UserError
from hubchaos.stack.state import read_state

__all__ = ["env_command", "shell_exports"]


def shell_exports(state_dir: Path) -> list[str]:
    """`export NAME=value` lines (values shell-quoted) for the stack recorded in `state_dir`."""
    state = read_state(state_dir)
    if state is None:
        raise UserError(f"no stack is recorded in {state_dir}: start one with `hubchaos up`")
    variables = {
        **state.experiment_env(),
        "HUBCHAOS_STATE_DIR": state.state_dir,
        "HUBCHAOS_PORT_OFFSET": str(state.port_offset),
    }
    return [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]


@click.command("env")
@click.option(
    "--state-dir",
    default=".hubchaos",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the stack's state (stack.json) lives.",
)
def env_command(state_dir: str) -> None:
    """Print the running stack's HUBCHAOS_* variables as `export` lines.

    Prepare a shell for plain `chaos run` with:  eval "$(hubchaos env)"
    """
    for line in shell_exports(Path(state_dir)):
        click.echo(line)
