"""Building the docker stack's images ahead of `hubchaos up --env docker` (CI, or the compose CLI).

    python3 -m hubchaos.stack.docker.prepare [--offline] [--replicas N] [--render DIR]

--render also writes the monitoring and proxy configs the compose CLI mounts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hubchaos.errors import HubchaosError
from hubchaos.stack.docker.stack import DockerStack


def main(argv: list[str] | None = None) -> int:
    """Build the docker stack's images ahead of `hubchaos up --env docker`."""
    parser = argparse.ArgumentParser(prog="python3 -m hubchaos.stack.docker.prepare")
    parser.add_argument("--offline", action="store_true", help="build every image locally")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument(
        "--render", type=Path, metavar="DIR",
        help="also write prometheus.yml, alertmanager.yml and toxiproxy.json for the compose CLI",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        stack = DockerStack(progress=lambda line: print(line, file=sys.stderr, flush=True))
        stack.build_images(offline=args.offline, replicas=args.replicas)
        if args.render:
            stack.render_configs(args.render, args.replicas)
            print(f"configs written to {args.render}", file=sys.stderr)
    except HubchaosError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
