"""The `hubchaos` command line.

Subcommands live next to the code they drive and are imported only when
invoked, so `hubchaos --help` stays fast and one broken optional part does not
take the whole CLI down.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from hubchaos import __version__
from hubchaos.errors import HubchaosError, UserError
from hubchaos.verdict import ExitCode

# name -> "module:attribute" of a click.Command
SUBCOMMANDS: dict[str, str] = {
    "proxy": "hubchaos.proxy.cli:proxy_command",
    "up": "hubchaos.stack.cli:up_command",
    "status": "hubchaos.stack.cli:status_command",
    "down": "hubchaos.stack.cli:down_command",
    "env": "hubchaos.stack.env_cli:env_command",
    "run": "hubchaos.cli.run:run_command",
    "report": "hubchaos.cli.report:report_command",
    "gameday": "hubchaos.gameday.cli:gameday_command",
    "budget": "hubchaos.budget.cli:budget_command",
    "recover": "hubchaos.ledger.cli:recover_command",
    "abort": "hubchaos.ledger.cli:abort_command",
    "cluster": "hubchaos.cluster.cli:cluster_command",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in SUBCOMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                return None  # not built yet
            raise
        command: click.Command = getattr(module, attr)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hubchaos")
def cli() -> None:
    """Chaos experiments against the learning-hub stack (Toxiproxy faults, pool probes, alerts)."""


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="hubchaos", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("hubchaos: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except UserError as exc:
        click.echo(f"hubchaos: error: {exc}", err=True)
        sys.exit(ExitCode.INVALID)
    except HubchaosError as exc:
        click.echo(f"hubchaos: error: {exc}", err=True)
        sys.exit(ExitCode.ERROR)


if __name__ == "__main__":
    main()
