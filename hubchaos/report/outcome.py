"""What one run came to, computed once from its journal and handed on.

The runner judges a run; the terminal line, JUnit, the report and a game
day's record all read that one judgement instead of each recomputing it. The
journal is redacted once, first, so no verdict line, fact or score anyone
sees can carry a password. Facts and score are computed on first use: a
plain `hubchaos run` needs only the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from hubchaos.journal.facts import Facts, facts_from_journal
from hubchaos.private.redact import redact
from hubchaos.score import Score, score_run
from hubchaos.verdict import Verdict, verdict_from_journal

__all__ = ["RunOutcome"]


@dataclass
class RunOutcome:
    journal: dict[str, Any]  # redacted
    verdict: Verdict

    @classmethod
    def of(cls, journal: Mapping[str, Any]) -> RunOutcome:
        """Redact `journal` and judge it."""
        redacted: dict[str, Any] = redact(dict(journal))
        return cls(redacted, verdict_from_journal(redacted))

    @cached_property
    def facts(self) -> Facts:
        return facts_from_journal(self.journal)

    @cached_property
    def score(self) -> Score:
        return score_run(self.journal, facts=self.facts, verdict=self.verdict)
