"""Benchmark the docker hub stack: `hubchaos up --env docker --offline` until healthy.

    python3 benchmarks/docker_stack.py [--rounds 3] [--json OUT]

  images      `python3 -m hubchaos.stack.docker.prepare --offline` right before:
              what a warm `up` finds (nothing to build when the sources did not change)
  up          the real CLI, `hubchaos up --env docker --offline`, timed from the
              command's start until it exits with every part healthy (images
              built, containers started, migrate done, proxies created, every
              published port answering its health check, hub_web serving)
  down        `hubchaos down --purge`: every container removed

The stack runs in a temporary state directory under a free port offset (its own
compose project). Needs a running engine and the offline base image
(scripts/docker-setup). Progress goes to stderr, a Markdown table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.docker.conftest import low_port_offset

REPO = Path(__file__).resolve().parents[1]


def timed(argv: list[str], cwd: Path, timeout: float = 600) -> float:
    started = time.monotonic()
    result = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{(result.stdout + result.stderr)[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    python = sys.executable
    images = timed([python, "-m", "hubchaos.stack.docker.prepare", "--offline"], REPO)
    print(f"images ready in {images:.1f}s", file=sys.stderr)
    ups, downs = [], []
    with tempfile.TemporaryDirectory(prefix="hubchaos-docker-bench-") as tmp:
        state_dir = Path(tmp) / ".hubchaos"
        for round_no in range(1, args.rounds + 1):
            offset = str(low_port_offset())
            up_argv = [python, "-m", "hubchaos", "up", "--env", "docker", "--offline",
                       "--port-offset", offset, "--state-dir", str(state_dir)]  # fmt: skip
            up = timed(up_argv, Path(tmp))
            down = timed([python, "-m", "hubchaos", "down", "--purge",
                          "--state-dir", str(state_dir)], Path(tmp))  # fmt: skip
            ups.append(up)
            downs.append(down)
            print(f"round {round_no}: up {up:.1f}s, down {down:.1f}s", file=sys.stderr)
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "images_check_s": round(images, 1),
        "up_s": [round(value, 1) for value in ups],
        "down_s": [round(value, 1) for value in downs],
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print("| step | median | all rounds |")
    print("| --- | --- | --- |")
    print(f"| images up to date (`docker_images --offline`) | {images:.1f} s | |")
    for name, values in (("`hubchaos up --env docker --offline` to healthy", ups),
                         ("`hubchaos down --purge`", downs)):  # fmt: skip
        rounds = ", ".join(f"{value:.1f}" for value in values)
        print(f"| {name} | {statistics.median(values):.1f} s | {rounds} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
