"""How the game day talks with the room: shows text, waits, and collects typed observations.

Three ways to run it:
- `Terminal`: waits for Enter at briefings and pauses and reads answers line by
  line from stdin (a terminal, or a pipe of prepared answers) until an empty
  line; when input ends, the rest of the game day continues unattended.
- `Unattended` (`--yes`): nothing waits, every question records "(unattended)".
- `AnswersFile` (`--observations-from FILE`): nothing waits, answers come from
  FILE, one block per question in plan order, blocks separated by an empty
  line, lines starting with '#' ignored.

Each answer line is handed over the moment it is read, so the runner can
timestamp and save it before the next one arrives.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, TextIO

from hubchaos.errors import UserError

__all__ = [
    "NO_ANSWER",
    "NO_INPUT",
    "TYPED",
    "UNATTENDED",
    "Answer",
    "AnswersFile",
    "Facilitation",
    "Terminal",
    "Unattended",
    "indented",
    "read_answers_file",
    "wrapped",
]

UNATTENDED = "(unattended)"
NO_INPUT = "(no answer: input ended)"
NO_ANSWER = "(no answer)"
TYPED = ("terminal", "file")  # sources of answers people gave (the others are markers)
ANSWER_HINT = "one observation per line; an empty line ends the answer"

Answer = tuple[str, str]  # (text, source: terminal | file | unattended | no-input | none)


class Facilitation(Protocol):
    mode: str

    def say(self, text: str = "") -> None: ...

    def wait(self, prompt: str) -> None: ...

    def answers(self, question: str) -> Iterator[Answer]: ...


def indented(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + row if row.strip() else "" for row in text.rstrip().splitlines())


def wrapped(text: str, prefix: str = "  ", width: int = 88) -> str:
    """A paragraph written on one line (YAML's folded style) as terminal lines."""
    return textwrap.fill(
        " ".join(text.split()), width, initial_indent=prefix, subsequent_indent=prefix
    )


class _Output:
    def __init__(self, out: TextIO | None) -> None:
        self._out = out

    @property
    def out(self) -> TextIO:
        return self._out or sys.stdout

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def ask(self, question: str) -> None:
        self.say(indented(f"? {question}", "  "))


class Terminal(_Output):
    """People at a terminal (or a pipe standing in for them)."""

    mode = "interactive"

    def __init__(self, stdin: TextIO | None = None, out: TextIO | None = None) -> None:
        super().__init__(out)
        self._stdin = stdin
        self.input_ended = False

    def _readline(self, prompt: str) -> str | None:
        """One line without its newline; None once input has ended (Ctrl-D, end of pipe)."""
        if self.input_ended:
            return None
        self.out.write(prompt)
        self.out.flush()
        text = (self._stdin or sys.stdin).readline()
        if text == "":
            self.input_ended = True
            self.say("\n  (input ended: the rest of the game day continues unattended)")
            return None
        return text.rstrip("\r\n")

    def wait(self, prompt: str) -> None:
        self._readline(f"  {prompt} ")

    def answers(self, question: str) -> Iterator[Answer]:
        self.ask(question)
        if self.input_ended:
            yield NO_INPUT, "no-input"
            return
        self.say(f"    ({ANSWER_HINT})")
        given = 0
        while (text := self._readline("    > ")) is not None and text.strip():
            given += 1
            yield text.strip(), "terminal"
        if text is None and not given:
            yield NO_INPUT, "no-input"


class Unattended(_Output):
    """`--yes`: pauses continue at once, questions are recorded as unattended."""

    mode = "unattended"

    def wait(self, prompt: str) -> None:
        self.say("  (unattended: continuing)")

    def answers(self, question: str) -> Iterator[Answer]:
        self.ask(question)
        self.say(f"    {UNATTENDED}")
        yield UNATTENDED, "unattended"


class AnswersFile(Unattended):
    """Answers prepared in a file, one block per question; nothing waits."""

    def __init__(self, blocks: list[list[str]], name: str, out: TextIO | None = None) -> None:
        super().__init__(out)
        self._blocks = list(blocks)
        self.mode = f"answers from {name}"

    def answers(self, question: str) -> Iterator[Answer]:
        if not self._blocks:
            yield from super().answers(question)
            return
        self.ask(question)
        for text in self._blocks.pop(0):
            self.say(f"    > {text}")
            yield text, "file"


def read_answers_file(path: str) -> list[list[str]]:
    """Blocks of answer lines, split at empty lines; '#' lines are comments."""
    source = Path(path)
    if not source.is_file():
        raise UserError(f"{path}: no such answers file (--observations-from)")
    try:
        rows = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the answers file: {exc}") from exc
    blocks: list[list[str]] = [[]]
    for row in rows:
        text = row.strip()
        if text.startswith("#"):
            continue
        if text:
            blocks[-1].append(text)
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]
