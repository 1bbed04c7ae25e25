"""The budget benchmark runs end to end for one round and prints its table.

The 0.5 s target is the benchmark's to report (benchmarks/RESULTS.md), not
asserted here: a loaded machine must not fail the suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "budget.py"


def test_one_round_measures_both_overlays_with_their_verdicts() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| fixed |")]
    rows += [line for line in result.stdout.splitlines() if line.startswith("| incident |")]
    assert len(rows) == 4, result.stdout
    for row in rows:
        median_ms = float(row.split("|")[3].strip().removesuffix(" ms"))
        assert median_ms > 0
