"""Finding the `hubchaos ...` commands in CI shell snippets and parsing them with the real CLI.

A snippet is a `run:` (GitHub) or a `script:` line (GitLab): shell text with
`\\` continuations, `&&`/`||`/`;`/`|` between commands and `VAR=value`
prefixes. Each hubchaos command is parsed by click exactly as `hubchaos`
would parse it, without running it: an unknown subcommand or option, a
missing argument or a bad choice raises click.UsageError.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import click

from hubchaos.cli import cli

SHELL_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", ">", ">>", "<"}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def shell_commands(snippet: str) -> list[list[str]]:
    """Every simple command in the snippet, as its words (comments dropped)."""
    commands: list[list[str]] = []
    for line in snippet.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in lexer:
            if token in SHELL_OPERATORS:
                commands.append(words)
                words = []
            else:
                words.append(token)
        commands.append(words)
    return [words for words in commands if words]


def hubchaos_arguments(words: list[str]) -> list[str] | None:
    """The arguments after `hubchaos` (or `python3 -m hubchaos`), or None for other commands."""
    while words and ASSIGNMENT.match(words[0]):
        words = words[1:]
    if words and (words[0] == "hubchaos" or words[0].endswith("/hubchaos")):
        return words[1:]
    if len(words) >= 3 and words[0].startswith("python") and words[1:3] == ["-m", "hubchaos"]:
        return words[3:]
    return None


def hubchaos_commands(snippet: str) -> list[list[str]]:
    found = (hubchaos_arguments(words) for words in shell_commands(snippet))
    return [arguments for arguments in found if arguments is not None]


def parse_hubchaos(arguments: list[str]) -> tuple[str, dict[str, Any]]:
    """(subcommand, its parsed parameters); raises click.UsageError like the CLI would."""
    if not arguments or arguments[0].startswith("-"):
        raise click.UsageError(f"no hubchaos subcommand in {arguments}")
    name, rest = arguments[0], arguments[1:]
    group = click.Context(cli, info_name="hubchaos")
    command = cli.get_command(group, name)
    if command is None:
        raise click.UsageError(f"no such hubchaos command: {name}")
    with command.make_context(name, list(rest), parent=group) as context:
        return name, dict(context.params)
