"""Benchmark the local cluster and the Kubernetes experiments (issue 10's figures).

    python3 benchmarks/kubernetes.py [--state-dir DIR] [--rounds 2] [--profiles fixed,incident]
                                     [--json OUT]
    python3 benchmarks/kubernetes.py --fresh-build CACHE_DIR

  cold start   `hubchaos cluster up` from stopped (binaries cached; etcd and
               pods empty; the images too in the first round of a new state
               directory, cached in its containerd from then on) plus
               `hubchaos up --env kubernetes --offline` until every workload is
               ready and the loopback forwards listen (target: at most 60 s)
  experiments  `hubchaos run` of each experiment in experiments/kubernetes/ on
               the `fixed` and the `incident` overlay, each on a hub of its own,
               with its exit code (a fast wrong verdict is not a result: fixed
               must give 0, incident 1)
  fresh build  the one-time build of the Kubernetes 1.20 binaries from Debian's
               source package into an empty cache (CACHE_DIR), as a fresh
               machine's first `hubchaos cluster up` does (15-30 min)

It starts and stops a cluster of its own, so no other local cluster may run
(the node and its bridge are machine-wide). Everything is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hubchaos.cluster.layout import ClusterLayout, cache_dir  # noqa: E402
from hubchaos.cluster.node import cluster_down, cluster_up  # noqa: E402

EXPERIMENTS = sorted((REPO / "experiments" / "kubernetes").glob("*.yaml"))
VERDICTS = {"fixed": 0, "incident": 1}
COLD_START_TARGET_S = 60.0
PORT_OFFSET = "4000"


def hubchaos(*args: str, env: dict[str, str], timeout: float) -> tuple[int, float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "hubchaos", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    return done.returncode, time.perf_counter() - started, done.stderr


def hub_up(profile: str, kubeconfig: Path, state: Path, env: dict[str, str]) -> float:
    code, seconds, err = hubchaos(
        "up", "--env", "kubernetes", "--offline", "--profile", profile,
        "--kubeconfig", str(kubeconfig), "--state-dir", str(state),
        "--port-offset", PORT_OFFSET, env=env, timeout=600,
    )  # fmt: skip
    if code != 0:
        raise SystemExit(f"hubchaos up --profile {profile} failed ({code}): {err[-800:]}")
    return seconds


def hub_down(state: Path, env: dict[str, str]) -> None:
    code, _, err = hubchaos("down", "--state-dir", str(state), env=env, timeout=300)
    if code != 0:
        raise SystemExit(f"hubchaos down failed ({code}): {err[-800:]}")


def run_experiments(
    state: Path, profile: str, kubeconfig: Path, env: dict[str, str]
) -> list[dict[str, object]]:
    """Each experiment on a hub of its own: an `incident` hub stays saturated after a
    run (its pools keep PostgreSQL's slots), so the next one would fail before its
    method; what each run measures must not depend on the one before."""
    results: list[dict[str, object]] = []
    for experiment in EXPERIMENTS:
        hub_up(profile, kubeconfig, state, env)
        try:
            code, seconds, err = hubchaos(
                "run", str(experiment), "--state-dir", str(state), env=env, timeout=900
            )
        finally:
            hub_down(state, env)
        wanted = VERDICTS[profile]
        results.append({"experiment": experiment.stem, "profile": profile, "exit": code,
                        "expected": wanted, "seconds": round(seconds, 1)})  # fmt: skip
        mark = "ok" if code == wanted else f"WRONG (expected {wanted}): {err[-300:]}"
        print(f"  {experiment.stem} on {profile}: {seconds:.1f} s, exit {code} {mark}",
              file=sys.stderr)  # fmt: skip
    return results


def cluster_and_experiments(
    state_dir: Path, rounds: int, profiles: list[str]
) -> dict[str, list[dict[str, object]]]:
    layout = ClusterLayout(state=state_dir, cache=cache_dir())
    progress = lambda line: print(f"    {line}", file=sys.stderr)  # noqa: E731
    hub_state = state_dir / "hub"
    cold: list[dict[str, object]] = []
    experiments: list[dict[str, object]] = []
    try:
        for round_number in range(rounds):
            cluster_down(layout, progress)  # stopped, as a cold start begins
            started = time.perf_counter()
            kubeconfig = cluster_up(layout, progress, hub_images=True)
            cluster_s = time.perf_counter() - started
            env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
            hub_s = hub_up("fixed", kubeconfig, hub_state, env)
            total = time.perf_counter() - started
            cold.append({"cluster_s": round(cluster_s, 1), "hub_s": round(hub_s, 1),
                         "total_s": round(total, 1)})  # fmt: skip
            print(f"round {round_number + 1}: cold start {total:.1f} s "
                  f"(cluster {cluster_s:.1f} s + hub {hub_s:.1f} s)", file=sys.stderr)  # fmt: skip
            hub_down(hub_state, env)
            if round_number == rounds - 1:
                for profile in profiles:
                    experiments += run_experiments(hub_state, profile, kubeconfig, env)
    finally:
        cluster_down(layout, progress)
    return {"cold_start": cold, "experiments": experiments}


def fresh_build(cache: Path) -> dict[str, float]:
    from hubchaos.cluster.build import ensure_binaries

    if cache.is_dir() and any(cache.iterdir()):
        raise SystemExit(f"--fresh-build {cache}: the directory must be empty (a cold cache)")
    os.environ["HUBCHAOS_CACHE_DIR"] = str(cache)
    layout = ClusterLayout(state=Path(tempfile.mkdtemp()), cache=cache)
    started = time.perf_counter()
    ensure_binaries(layout, lambda line: print(f"    {line}", file=sys.stderr))
    return {"fresh_build_s": round(time.perf_counter() - started, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, default=REPO / ".hubchaos" / "cluster-bench",
                        help="cluster state; its containerd keeps images between runs")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=2, help="cold starts to time")
    parser.add_argument("--profiles", default="fixed,incident", help="comma-separated")
    parser.add_argument("--fresh-build", type=Path, default=None, metavar="CACHE_DIR")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the local cluster needs root")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    result: dict[str, object]
    if args.fresh_build is not None:
        built = fresh_build(args.fresh_build.resolve())
        print(f"fresh build: {built['fresh_build_s']} s")
        result = dict(built)
    else:
        profiles = [name for name in args.profiles.split(",") if name]
        unknown = sorted(set(profiles) - set(VERDICTS))
        if unknown:
            raise SystemExit(f"--profiles: unknown {', '.join(unknown)} (fixed, incident)")
        figures = cluster_and_experiments(args.state_dir.resolve(), args.rounds, profiles)
        result = dict(figures)
        print("\n| cold start | cluster up | hub up | total | target |")
        print("| --- | --- | --- | --- | --- |")
        for index, cold in enumerate(figures["cold_start"], start=1):
            print(f"| round {index} | {cold['cluster_s']} s | {cold['hub_s']} s | "
                  f"{cold['total_s']} s | <= {COLD_START_TARGET_S:.0f} s |")  # fmt: skip
        print("\n| experiment | profile | duration | exit | expected |")
        print("| --- | --- | --- | --- | --- |")
        for row in figures["experiments"]:
            print(f"| {row['experiment']} | {row['profile']} | {row['seconds']} s | "
                  f"{row['exit']} | {row['expected']} |")  # fmt: skip
    print(f"\nLoad average (1 min) at the end: {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
