"""The program each pod of a cluster flood runs: the local HTTP spike, from inside the cluster.

The runner ships this file's source in the Job (`python3 -c SOURCE ARGUMENTS`),
so a pod needs only what every hub image already holds (hubchaos.traffic), not
a newer image. It runs the same bounded load as `http_spike` (count- and
time-bounded, keep-alive workers over a route mix) against a Service of its
own namespace, then prints one line `RESULT_MARK {json}` that the runner reads
back from the pod's log. It exits 0 whenever the load ran, errors included:
a Job pod fails only when the program itself could not run.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from hubchaos.traffic.http_load import http_load, load_plan
from hubchaos.traffic.loop import run_load

__all__ = ["RESULT_MARK", "main", "pod_arguments", "run_pod_flood"]

RESULT_MARK = "HUBCHAOS_POD_FLOOD_RESULT"
SLACK_S = 10.0  # past duration + timeout, the loop stops the load whatever it does


def pod_arguments(
    service: str,
    port: int,
    routes: list[dict[str, Any]] | None,
    concurrency: int,
    duration_seconds: float,
    max_requests: int,
    timeout: float,
    fast_503_ms: float,
) -> dict[str, Any]:
    """What one pod is told to do (the JSON argument of the program)."""
    return {
        "url": f"http://{service}:{port}",
        "routes": routes,
        "concurrency": concurrency,
        "duration_seconds": duration_seconds,
        "max_requests": max_requests,
        "timeout": timeout,
        "fast_503_ms": fast_503_ms,
        "service": service,
    }


def run_pod_flood(arguments: dict[str, Any]) -> dict[str, Any]:
    """Run the load one pod's arguments describe; its statistics."""
    # The pod's blast radius: the one Service of its namespace it was sent to.
    configuration = {"hubchaos_allowed_hosts": str(arguments["service"])}
    plan, target = load_plan(
        str(arguments["url"]),
        arguments.get("routes"),
        arguments["concurrency"],
        arguments["duration_seconds"],
        arguments["max_requests"],
        arguments["timeout"],
        arguments["fast_503_ms"],
        configuration,
    )
    bound = plan.duration_seconds + plan.timeout + SLACK_S
    return run_load(bound, lambda stop: http_load(plan, target, stop))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: pod_flood ARGUMENTS_JSON", file=sys.stderr)
        return 2
    result = run_pod_flood(json.loads(argv[0]))
    print(f"{RESULT_MARK} {json.dumps(result)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
