"""Benchmark the fault ledger: SIGKILL-to-baseline time of the dead man's switch,
and the ledger's overhead on an experiment's duration.

    python3 benchmarks/ledger.py [--kills 20] [--rounds 5] [--json OUT]

  kill      `hubchaos run` of a fixture (a latency toxic, a disabled proxy, a
            held DB flood, then a wait) is SIGKILLed at a random moment
            between its first ledger entry and 3 s later; measured: time from
            the kill until the Toxiproxy server shows no toxic and no disabled
            proxy, PostgreSQL no hubchaos-* session, and the ledger is empty
            (polled every 50 ms). Target: max <= 15 s.
  overhead  one experiment (a toxic, a 5 s foreground HTTP spike, a DB flood,
            the toxic removed) run in-process with the ledger, and with the
            ledger's record/settle/lease replaced by no-ops, alternating
            rounds; the median duration of each and the difference. Also the
            cost of one record + settle (two fsyncs) on this disk.
            Target: < 1 %.

The stack runs in a temporary state directory under a free port offset and is
stopped and deleted at the end. Progress goes to stderr, Markdown to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.stack import free_offset, percentile  # noqa: E402
from hubchaos.stack.local import LocalStack  # noqa: E402

FIXTURE = REPO / "tests" / "ledger" / "data" / "proxy-faults.yaml"
OWN_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'hubchaos-%'"
    " AND pid <> pg_backend_pid()"
)
OVERHEAD_EXPERIMENT: dict[str, Any] = {
    "version": "1.0.0",
    "title": "ledger overhead: a toxic, a spike and a flood",
    "description": "benchmarks/ledger.py",
    "configuration": {
        key: {"type": "env", "key": key.upper()}
        for key in (
            "hubchaos_toxiproxy_url",
            "hubchaos_app_url",
            "hubchaos_db_dsn",
            "hubchaos_state_dir",
        )
    },
    "controls": [
        {
            "name": "hubchaos-safety",
            "provider": {"type": "python", "module": "hubchaos.controls.safety"},
        }
    ],
    "method": [
        {
            "name": "latency",
            "type": "action",
            "provider": {
                "type": "python",
                "module": "hubchaos.actions.toxiproxy",
                "func": "add_latency",
                "arguments": {"proxy": "hub_db", "latency_ms": 20},
            },
        },
        {
            "name": "flood",
            "type": "action",
            "provider": {
                "type": "python",
                "module": "hubchaos.actions.flood",
                "func": "flood_db_connections",
                "arguments": {"count": 10, "rate": 50, "hold_seconds": 1, "max_seconds": 10},
            },
        },
        {
            "name": "spike",
            "type": "action",
            "provider": {
                "type": "python",
                "module": "hubchaos.actions.flood",
                "func": "http_spike",
                "arguments": {"concurrency": 4, "duration_seconds": 5, "timeout": 5},
            },
        },
        {
            "name": "unlatency",
            "type": "action",
            "provider": {
                "type": "python",
                "module": "hubchaos.actions.toxiproxy",
                "func": "remove_toxic",
                "arguments": {"proxy": "hub_db", "name": "latency_downstream"},
            },
        },
    ],
}


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def at_baseline(stack: LocalStack) -> bool:
    state = stack.state()
    assert state is not None
    proxies = httpx.get(f"{state.toxiproxy_url}/proxies", timeout=5).json()
    if any(p["toxics"] or not p["enabled"] for p in proxies.values()):
        return False
    with psycopg.connect(state.db_dsn, connect_timeout=5, application_name="bench") as conn:
        row = conn.execute(OWN_SQL).fetchone()
    if row and row[0]:
        return False
    return not list((stack.state_dir / "ledger").glob("fault-*.json"))


def one_kill(stack: LocalStack, rng: random.Random) -> tuple[float, float]:
    env = {**os.environ, "HUBCHAOS_PORT_OFFSET": str(stack.port_offset)}
    run = subprocess.Popen(
        [sys.executable, "-m", "hubchaos", "run", str(FIXTURE), "--state-dir",
         str(stack.state_dir), "--no-start", "--plain", "--report",
         str(stack.state_dir.parent / "runs")],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not list((stack.state_dir / "ledger").glob("fault-*.json")):
        if time.monotonic() > deadline or run.poll() is not None:
            run.kill()
            raise SystemExit("the run never recorded a fault")
        time.sleep(0.01)
    delay = rng.uniform(0.0, 3.0)
    time.sleep(delay)
    run.kill()
    killed = time.monotonic()
    run.wait()
    while not at_baseline(stack):
        if time.monotonic() - killed > 60:
            raise SystemExit("not back at the baseline 60 s after the kill")
        time.sleep(0.05)
    return delay, time.monotonic() - killed


def ledger_noop() -> None:
    """Replace the ledger's writes by no-ops (the baseline of the overhead measure)."""
    from hubchaos import ledger
    from hubchaos.ledger.owner import Owner
    from hubchaos.ledger.store import FaultEntry

    def record(kind: str, target: str, undo: dict, configuration: Any = None,
               note: bool = True) -> FaultEntry:  # fmt: skip
        if note:
            ledger.history.note(kind, target)
        return FaultEntry("noop", kind, target, undo, Owner(0, 0))

    ledger.record = record
    ledger.settle = lambda entry, configuration=None: None
    ledger.hold_lease = lambda configuration=None: ledger.ledger_for(configuration)
    ledger.mine = lambda configuration=None, kind_prefix="": []


def ledger_timed() -> None:
    """Sum the wall time spent in the ledger's calls and the safety baseline; print it at exit."""
    import atexit

    from hubchaos import ledger
    from hubchaos.controls import safety

    spent: dict[str, float] = {}

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - started

        return wrapper

    for name in ("record", "settle", "hold_lease", "mine"):
        setattr(ledger, name, timed(name, getattr(ledger, name)))
    for name in ("take_baseline", "back_to_baseline"):
        setattr(safety, name, timed(name, getattr(safety, name)))

    def report() -> None:
        log(json.dumps({k: round(v * 1000, 1) for k, v in spent.items()}))
        print(json.dumps({"ledger_seconds": sum(spent.values())}), file=sys.stderr)

    atexit.register(report)


def overhead(stack: LocalStack, rounds: int, workdir: Path) -> dict[str, Any]:
    """Alternating rounds in child processes: with the ledger, then without."""
    path = workdir / "overhead.json"
    path.write_text(json.dumps(OVERHEAD_EXPERIMENT))
    state = stack.state()
    assert state is not None
    env = {**os.environ, **state.experiment_env(), "HUBCHAOS_STATE_DIR": str(stack.state_dir)}
    timings: dict[str, list[float]] = {"ledger": [], "no ledger": [], "in ledger calls": []}
    for index in range(rounds):
        for mode in ("ledger", "no ledger"):
            code = (
                "import sys, time, json; sys.path.insert(0, sys.argv[1]);"
                "from benchmarks.ledger import ledger_noop, ledger_timed;"
                + ("ledger_noop();" if mode == "no ledger" else "ledger_timed();")
                + "from pathlib import Path; from hubchaos.runner import run_experiment_file;"
                "t = time.monotonic(); r = run_experiment_file(sys.argv[2], Path(sys.argv[3]));"
                "print(json.dumps([time.monotonic() - t, r.journal['status']]))"
            )
            out = subprocess.run(
                [sys.executable, "-c", code, str(REPO), str(path), str(workdir / "journals")],
                env=env, capture_output=True, text=True, timeout=120, check=True,
            )  # fmt: skip
            seconds, status = json.loads(out.stdout.strip().splitlines()[-1])
            if status != "completed":
                raise SystemExit(f"overhead experiment ended {status}: {out.stderr[-2000:]}")
            timings[mode].append(seconds)
            if mode == "ledger":
                lines = out.stderr.strip().splitlines()
                spent = json.loads(lines[-1])["ledger_seconds"]
                log(f"  ms per call site: {lines[-2]}")
                timings["in ledger calls"].append(spent)
                log(f"overhead round {index + 1}/{rounds} {mode}: {seconds:.3f}s "
                    f"({spent * 1000:.1f} ms in ledger calls)")  # fmt: skip
            else:
                log(f"overhead round {index + 1}/{rounds} {mode}: {seconds:.3f}s")
    return timings


def micro(workdir: Path, count: int = 200) -> float:
    from hubchaos.ledger.store import FaultLedger

    ledger = FaultLedger(workdir / "micro")
    started = time.perf_counter()
    for _ in range(count):
        entry = ledger.record("toxic:latency", "x", {"action": "toxiproxy.delete_toxic"})
        ledger.settle(entry.id)
    return (time.perf_counter() - started) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip-kills", action="store_true", help="Only the overhead.")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="hubchaos-ledger-bench-"))
    stack = LocalStack(workdir / ".hubchaos", port_offset=free_offset(), progress=log)
    try:
        stack.up(profile="fixed", replicas=2, toxiproxy="embedded")
        rng = random.Random()
        kills = []
        for index in range(0 if args.skip_kills else args.kills):
            delay, seconds = one_kill(stack, rng)
            kills.append(seconds)
            log(f"kill {index + 1}/{args.kills} at +{delay:.2f}s: baseline after {seconds:.2f}s")
        timings = overhead(stack, args.rounds, workdir)
        record_ms = micro(workdir)
    finally:
        stack.down(purge=True)
        shutil.rmtree(workdir, ignore_errors=True)
    with_ledger = statistics.median(timings["ledger"])
    without = statistics.median(timings["no ledger"])
    result: dict[str, Any] = {"kills": len(kills)}
    if kills:
        result["kill_to_baseline_p50_s"] = round(statistics.median(kills), 3)
        result["kill_to_baseline_p90_s"] = round(percentile(kills, 0.9), 3)
        result["kill_to_baseline_max_s"] = round(max(kills), 3)
    result |= {
        "experiment_median_s": {"ledger": round(with_ledger, 3), "no ledger": round(without, 3)},
        "experiment_stdev_s": {
            mode: round(statistics.stdev(timings[mode]), 3) if len(timings[mode]) > 1 else 0.0
            for mode in ("ledger", "no ledger")
        },
        "overhead_percent_ab": round((with_ledger - without) / without * 100, 2),
        "in_ledger_calls_median_ms": round(statistics.median(timings["in ledger calls"]) * 1000, 1),
        "overhead_percent_in_calls": round(
            statistics.median(timings["in ledger calls"]) / with_ledger * 100, 2
        ),
        "record_and_settle_ms": round(record_ms, 3),
    }
    print("| measure | value |\n|---|---|")
    for key, value in result.items():
        print(f"| {key} | {value} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
