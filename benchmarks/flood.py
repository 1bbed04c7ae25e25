"""Benchmark the flood actions against the reference tools, in one run.

    python3 benchmarks/flood.py [--quick] [--only http|db] [--json OUT]

http  `http_spike` vs `wrk` against a trivial keep-alive HTTP/1.1 responder
      (uvloop, its own process), same connection count and duration.
      Reported: requests/s. Target: http_spike >= 0.3x wrk.
db    `flood_db_connections` vs `pgbench -C -S` (a new login per transaction)
      against a private PostgreSQL 15 cluster (PostgresCluster) as the same
      ordinary SCRAM role. Reported: logins/s; for the flood, the rate at
      which it filled every slot up to PostgreSQL's limit (it must also see
      the 53300 refusals that prove it got there). Target: >= 0.8x pgbench.

Rounds interleave tool and flood so machine noise hits both alike; each round
gives the reference tool its best configuration (wrk with 1 and 2 threads,
pgbench with 4, 8 and 16 clients) and the medians are compared. Progress goes
to stderr, the results table (Markdown) to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg

from hubchaos.actions.flood import flood_db_connections, http_spike
from hubchaos.stack.local.postgres import PostgresCluster, find_pg_bin

HTTP_TARGET = 0.3
DB_TARGET = 0.8
BENCH_ROLE = "bench_flood"


@dataclass(frozen=True)
class Settings:
    rounds: int
    http_seconds: float
    http_connections: int
    wrk_threads: tuple[int, ...]
    max_connections: int
    pgbench_seconds: int
    pgbench_clients: tuple[int, ...]
    flood_max_connecting: int


FULL = Settings(
    rounds=5,
    http_seconds=3.0,
    http_connections=50,
    wrk_threads=(1, 2),
    max_connections=200,
    pgbench_seconds=3,
    pgbench_clients=(4, 8, 16),
    flood_max_connecting=16,
)
QUICK = Settings(
    rounds=1,
    http_seconds=1.0,
    http_connections=20,
    wrk_threads=(1,),
    max_connections=60,
    pgbench_seconds=1,
    pgbench_clients=(8,),
    flood_max_connecting=16,
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- HTTP ------------------------------------------------------------------------------

# The cheapest correct keep-alive responder we can write: whatever the client
# sends, every complete request head gets a fixed 200 with a 2-byte body.
_RESPONDER = r"""
import asyncio, sys, uvloop
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
class Responder(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.pending = transport, b""
    def data_received(self, data):
        self.pending += data
        complete = self.pending.count(b"\r\n\r\n")
        if complete:
            self.pending = self.pending[self.pending.rfind(b"\r\n\r\n") + 4:]
            self.transport.write(RESPONSE * complete)
async def main():
    server = await asyncio.get_running_loop().create_server(
        Responder, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(3600)
uvloop.run(main())
"""


@contextmanager
def trivial_http_server() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-c", _RESPONDER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip())
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wrk_requests_per_second(url: str, threads: int, connections: int, seconds: float) -> float:
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if not match or "Non-2xx" in result.stdout or "Socket errors" in result.stdout:
        raise RuntimeError(f"wrk did not measure cleanly:\n{result.stdout}")
    return float(match.group(1))


def bench_http(settings: Settings) -> dict[str, Any]:
    wrk: list[float] = []
    spike: list[float] = []
    with trivial_http_server() as url:
        for number in range(1, settings.rounds + 1):
            best = max(
                wrk_requests_per_second(
                    url, threads, settings.http_connections, settings.http_seconds
                )
                for threads in settings.wrk_threads
            )
            wrk.append(best)
            result = http_spike(
                url=url,
                concurrency=settings.http_connections,
                duration_seconds=settings.http_seconds,
                routes=[{"method": "GET", "path": "/"}],
            )
            if result["errors_by_kind"] or set(result["status_counts"]) != {"200"}:
                raise RuntimeError(f"http_spike did not measure cleanly: {result}")
            spike.append(result["requests_per_second"])
            log(
                f"http round {number}: wrk {best:,.0f} req/s, http_spike "
                f"{spike[-1]:,.0f} req/s (p99 {result['latency_ms']['p99']} ms)"
            )
    return _compare("requests/s", "wrk", wrk, "http_spike", spike, HTTP_TARGET)


# --- PostgreSQL logins -----------------------------------------------------------------


def _wait_for_idle_cluster(cluster: PostgresCluster, timeout: float = 30.0) -> None:
    """Backends exit a moment after their client: start each run from empty."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            ).fetchone()
            if row is not None and row[0] <= 1:
                return
            time.sleep(0.05)
    raise RuntimeError("PostgreSQL still has client connections from the previous run")


def pgbench_logins_per_second(cluster: PostgresCluster, clients: int, seconds: int) -> float:
    result = subprocess.run(
        [
            find_pg_bin("pgbench"),
            "-n",
            "-C",
            "-S",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            "-h",
            "127.0.0.1",
            "-p",
            str(cluster.port),
            "-U",
            BENCH_ROLE,
            "postgres",
        ],
        env={**os.environ, "PGPASSWORD": BENCH_ROLE},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    match = re.search(r"tps = ([\d.]+)", result.stdout)
    if result.returncode != 0 or not match:
        raise RuntimeError(f"pgbench failed: {result.stderr.strip()[-500:]}")
    return float(match.group(1))  # -C: one login per transaction


def _prepare_cluster(cluster: PostgresCluster) -> None:
    subprocess.run(
        [
            find_pg_bin("pgbench"),
            "-i",
            "-q",
            "-s",
            "1",
            "-h",
            "127.0.0.1",
            "-p",
            str(cluster.port),
            "-U",
            "hubchaos",
            "postgres",
        ],
        env={**os.environ, "PGPASSWORD": "hubchaos"},
        capture_output=True,
        check=True,
        timeout=120,
    )
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {BENCH_ROLE} LOGIN PASSWORD '{BENCH_ROLE}'")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {BENCH_ROLE}")


def bench_db(settings: Settings) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="hubchaos-bench-pg-"))
    cluster = PostgresCluster(
        base_dir=base, port=_free_port(), max_connections=settings.max_connections
    )
    limit = settings.max_connections - cluster.superuser_reserved_connections
    pgbench: list[float] = []
    flood: list[float] = []
    try:
        cluster.start()
        _prepare_cluster(cluster)
        dsn = f"postgresql://{BENCH_ROLE}:{BENCH_ROLE}@127.0.0.1:{cluster.port}/postgres"
        for number in range(1, settings.rounds + 1):
            best = 0.0
            for clients in settings.pgbench_clients:
                _wait_for_idle_cluster(cluster)
                best = max(
                    best, pgbench_logins_per_second(cluster, clients, settings.pgbench_seconds)
                )
            pgbench.append(best)
            _wait_for_idle_cluster(cluster)
            result = flood_db_connections(
                count=limit + 20,
                rate=100_000,
                # every slot must still be held when the last login lands,
                # even on a loaded machine (the rate is measured up to then)
                hold_seconds=10.0,
                dsn=dsn,
                max_connecting=settings.flood_max_connecting,
            )
            reached = result["succeeded"] == limit and result["refusals_by_sqlstate"].get("53300")
            if not reached or result["errors_by_kind"]:
                raise RuntimeError(f"the flood did not reach the connection limit: {result}")
            flood.append(result["logins_per_second"])
            log(
                f"db round {number}: pgbench -C {best:,.1f} logins/s, flood {flood[-1]:,.1f} "
                f"logins/s ({limit} slots full after "
                f"{result['seconds_to_first_refusal']} s)"
            )
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
    summary = _compare("logins/s", "pgbench -C", pgbench, "flood_db_connections", flood, DB_TARGET)
    summary["connection_limit"] = limit
    return summary


# --- reporting -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _compare(
    unit: str, tool: str, tool_runs: list[float], ours: str, our_runs: list[float], target: float
) -> dict[str, Any]:
    tool_median = statistics.median(tool_runs)
    our_median = statistics.median(our_runs)
    ratio = our_median / tool_median if tool_median else 0.0
    return {
        "unit": unit,
        "tool": tool,
        "tool_runs": [round(v, 1) for v in tool_runs],
        "tool_median": round(tool_median, 1),
        "ours": ours,
        "our_runs": [round(v, 1) for v in our_runs],
        "our_median": round(our_median, 1),
        "ratio": round(ratio, 3),
        "target": target,
        "met": ratio >= target,
    }


def _table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| benchmark | reference (median) | hubchaos (median) | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['tool']}: {r['tool_median']:,.1f} {r['unit']} "
            f"| {r['ours']}: {r['our_median']:,.1f} {r['unit']} | {r['ratio']:.2f}x "
            f"| >= {r['target']}x | {'yes' if r['met'] else 'NO'} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round (smoke run)")
    parser.add_argument("--only", choices=("http", "db"), help="run one benchmark")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    settings = QUICK if args.quick else FULL
    for tool in ("wrk",):
        if args.only != "db" and not shutil.which(tool):
            print(
                f"benchmark needs '{tool}' on PATH (Debian: apt-get install wrk)", file=sys.stderr
            )
            return 2
    load_before = os.getloadavg()
    results: dict[str, dict[str, Any]] = {}
    if args.only in (None, "http"):
        results["http spike, trivial route"] = bench_http(settings)
    if args.only in (None, "db"):
        results["DB login flood to the connection limit"] = bench_db(settings)
    print(_table(results))
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(v, 2) for v in load_before],
        },
        "settings": asdict(settings),
        "results": results,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(r["met"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
