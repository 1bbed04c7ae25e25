"""Time from the first fault to a correct top finding, per experiment and profile.

Reads journals of `hubchaos run` (the experiment tests leave them under their
base temp directory: runs/<profile>/<experiment>/<experiment>.journal.json)
and prints, as a Markdown table, for each run: the top finding, when it was
known (seconds after the first fault, as the live panel showed it), the time
to detect (first alert firing after the first fault, as the report says) and
the margin against the target "known <= detected + 5 s".

    python3 benchmarks/diagnosis.py RUNS_DIR [RUNS_DIR ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hubchaos.diagnosis import diagnosis_for_journal
from hubchaos.journal.facts import facts_from_journal

TARGET_MARGIN_S = 5.0


def rows(runs_dirs: list[Path]) -> list[tuple[str, str, str, str, str, str, str]]:
    found = []
    for runs in runs_dirs:
        for path in sorted(runs.glob("*/*/*.journal.json")):
            profile, experiment = path.parent.parent.name, path.parent.name
            journal = json.loads(path.read_text())
            findings = journal.get("hubchaos_diagnosis") or diagnosis_for_journal(journal)
            top = findings[0] if findings else {}
            known = top.get("known_after_seconds")
            detected = facts_from_journal(journal).seconds_to_detect()
            met = known is not None and detected is not None and known <= detected + TARGET_MARGIN_S
            found.append(
                (
                    experiment,
                    profile,
                    str(top.get("cause", "-")),
                    "-" if known is None else f"{known:.1f}",
                    "-" if detected is None else f"{detected:.1f}",
                    "-" if known is None or detected is None else f"{known - detected:+.1f}",
                    "yes" if met else "no",
                )
            )
    return found


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    header = (
        "experiment",
        "profile",
        "top finding",
        "known (s)",
        "detected (s)",
        "known - detected",
        "<= detect + 5 s",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows([Path(a) for a in argv]):
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
