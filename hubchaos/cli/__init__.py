"""The `hubchaos` command line: the root command and the runner's own subcommands.

Modules: app (the root group; loads each subcommand only when invoked and
turns hubchaos errors into one line and an exit code), run (`hubchaos run`:
validate, make the stack ready, run, judge, write JUnit and reports), report
(`hubchaos report`: render a saved journal). The stack, proxy and game-day
commands live with the code they drive (hubchaos.stack.cli, hubchaos.proxy.cli,
hubchaos.gameday.cli). `main` is the console script's entry point.
"""

from hubchaos.cli.app import cli, main

__all__ = ["cli", "main"]
