"""Benchmark the Toxiproxy-compatible proxy against direct loopback, in one run.

    python3 benchmarks/proxy.py [--quick] [--toxiproxy-bin PATH] [--json OUT] [--only NAME]
                                [--reference-haproxy [--haproxy-threads 1,2]]

Every measurement runs the same client against direct loopback and through
each proxy, interleaved round by round so machine noise hits all routes alike:

  throughput  iperf3 (control connection and data stream both proxied)
  rtt         64-byte ping-pong on one connection, p50/p99; added = proxy - direct
  connrate    connect + 64-byte exchange + server close, several client processes
  memory      proxy RSS delta (VmRSS) / held connections, 4,000 held
  latency     100 ms latency toxic, 500 connections each sending one request at once

Each proxy is also measured with a latency toxic of 0 ms (jitter 0) on BOTH
streams ("+latency0"): every byte then takes the toxic path, while adding no
deliberate delay that would hide the proxy's own cost. The targets must hold
there too. Servers are driven only through the Toxiproxy HTTP API, so
`--toxiproxy-bin PATH` measures a real toxiproxy-server side by side.

`--reference-haproxy` adds HAProxy (TCP mode, one thread count per route,
default 1 and 2) to throughput, rtt and connrate: not a competitor but the
machine's ceiling, what a mature C proxy reaches on the same cores under the
same load. Its rows are labelled "reference" and carry no target; it has no
toxics, so memory and latency leave it out.
Progress goes to stderr, the results table to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from _haproxy import MAX_THREADS, find_haproxy, haproxy_version, running_haproxy
from _loopback import (
    LoopbackError,
    build_tool,
    burst_response_ms,
    connection_rate,
    echo_server,
    free_port,
    held_connections,
    iperf3_server,
    iperf3_throughput,
    pingpong_rtts_us,
)
from _profile import py_spy
from _proxy_report import ACCURACY_LATENCY_MS, checks_for, machine_info, render_table
from _toxiproxy import ProxyServer, embedded_command, running_server, toxiproxy_command

BENCHMARKS = ("throughput", "rtt", "connrate", "memory", "latency")
REFERENCE_BENCHMARKS = ("throughput", "rtt", "connrate")  # the ones without toxics
TOXIC_LATENCY_MS = 0
# (route name suffix, latency toxic on both streams or None)
VARIANTS: tuple[tuple[str, int | None], ...] = (("", None), ("+latency0", TOXIC_LATENCY_MS))


@dataclass(frozen=True)
class Settings:
    rounds: int  # interleaved rounds for throughput and connrate
    throughput_s: float
    rtt_rounds: int
    rtt_count: int  # exchanges per route per round
    connrate_s: float
    connrate_clients: int
    held: int
    latency_connections: int
    latency_rounds: int


FULL = Settings(
    rounds=5,
    throughput_s=3.0,
    rtt_rounds=10,
    rtt_count=2000,
    connrate_s=3.0,
    connrate_clients=4,
    held=4000,
    latency_connections=500,
    latency_rounds=3,
)
QUICK = Settings(
    rounds=1,
    throughput_s=1.0,
    rtt_rounds=1,
    rtt_count=300,
    connrate_s=0.5,
    connrate_clients=2,
    held=200,
    latency_connections=50,
    latency_rounds=1,
)


@dataclass(frozen=True)
class Route:
    """One way to reach the loopback targets: directly or through a proxy."""

    name: str
    echo: int  # echo server
    closing: int  # echo server that closes after 64 bytes (connrate)
    iperf: int
    server: ProxyServer | None = None  # Toxiproxy API of the proxy, if it has one
    process: subprocess.Popen[bytes] | None = None  # the proxy, for its CPU time
    reference: bool = False  # a reference proxy (haproxy): measured, no target


@dataclass
class Bench:
    settings: Settings
    tool: Path
    workdir: Path
    routes: list[Route]
    commands: dict[str, Callable[[int], list[str]]]  # server label -> command for an API port
    latency_ports: dict[str, int]  # server label -> proxy with the 100 ms toxic
    reference_info: dict[str, dict[str, Any]]  # reference route -> version, threads, config

    @property
    def direct(self) -> Route:
        return self.routes[0]


def progress(message: str) -> None:
    # One write with its newline, so a Ctrl-C cannot cut the line from its end.
    sys.stderr.write(f"[proxy-bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = min(max(1, math.ceil(fraction * len(ordered))), len(ordered))
    return ordered[rank - 1]


def cpu_seconds(process: subprocess.Popen[bytes] | None) -> float:
    """User+system CPU time of the proxy process, all threads, so far (0 for direct routes)."""
    if process is None:
        return 0.0
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rotated(routes: list[Route], shift: int) -> list[Route]:
    """The routes in a different order each round, so drift does not favour one."""
    shift %= len(routes)
    return routes[shift:] + routes[:shift]


def measure_interleaved(
    bench: Bench, rounds: int, what: str, unit: str, measure: Callable[[Route], float]
) -> dict[str, Any]:
    """Run measure on every route, round by round; values, medians and proxy CPU share.

    The ratio to direct is the median of per-round ratios: each pairs
    measurements taken seconds apart, so load from other processes that comes
    and goes over the run cancels out better than in a ratio of medians.
    """
    values: dict[str, list[float]] = {route.name: [] for route in bench.routes}
    cpu: dict[str, list[float]] = {route.name: [] for route in bench.routes}
    for round_index in range(rounds):
        for route in rotated(bench.routes, round_index):
            cpu_before, started = cpu_seconds(route.process), time.monotonic()
            value = measure(route)
            elapsed = time.monotonic() - started
            cpu[route.name].append((cpu_seconds(route.process) - cpu_before) / elapsed)
            values[route.name].append(value)
            progress(f"{what} round {round_index + 1}/{rounds} {route.name}: {value:,.1f} {unit}")
    medians = {name: statistics.median(samples) for name, samples in values.items()}
    return {
        "unit": unit,
        "samples": values,
        "median": medians,
        "ratio_to_direct": {
            name: statistics.median(v / d for v, d in zip(samples, values["direct"], strict=True))
            for name, samples in values.items()
        },
        "proxy_cpu_share": {name: statistics.median(c) for name, c in cpu.items()},
    }


def bench_throughput(bench: Bench) -> dict[str, Any]:
    seconds = bench.settings.throughput_s
    return measure_interleaved(
        bench,
        bench.settings.rounds,
        "throughput",
        "Gbit/s",
        lambda route: iperf3_throughput(route.iperf, seconds) / 1e9,
    )


def bench_rtt(bench: Bench) -> dict[str, Any]:
    """64-byte ping-pong RTT per route; added = proxy p50 - direct p50.

    Loopback RTT is bimodal on a busy 2-core machine (client and server on one
    core or on two), so the added RTT is the median of per-round differences,
    each between runs taken back to back, not a difference of pooled p50s.
    """
    samples: dict[str, list[float]] = {route.name: [] for route in bench.routes}
    round_p50: dict[str, list[float]] = {route.name: [] for route in bench.routes}
    rounds = bench.settings.rtt_rounds
    for round_index in range(rounds):
        for route in rotated(bench.routes, round_index):
            rtts = pingpong_rtts_us(bench.tool, route.echo, bench.settings.rtt_count)
            samples[route.name] += rtts
            round_p50[route.name].append(percentile(rtts, 0.5))
            progress(
                f"rtt round {round_index + 1}/{rounds} {route.name}: "
                f"p50 {round_p50[route.name][-1]:.1f} us"
            )
    direct = round_p50["direct"]
    return {
        "unit": "us",
        "count": {name: len(values) for name, values in samples.items()},
        "p50": {name: percentile(values, 0.50) for name, values in samples.items()},
        "p99": {name: percentile(values, 0.99) for name, values in samples.items()},
        "round_p50": round_p50,
        "added_p50": {
            name: statistics.median(p - d for p, d in zip(p50s, direct, strict=True))
            for name, p50s in round_p50.items()
        },
    }


def bench_connrate(bench: Bench) -> dict[str, Any]:
    settings = bench.settings
    return measure_interleaved(
        bench,
        settings.rounds,
        "connrate",
        "conn/s",
        lambda route: connection_rate(
            bench.tool, route.closing, settings.connrate_s, settings.connrate_clients
        ),
    )


def _settled_rss_kib(server: ProxyServer) -> int:
    time.sleep(1.0)
    readings = []
    for _ in range(3):
        readings.append(server.rss_kib())
        time.sleep(0.2)
    return int(statistics.median(readings))


def bench_memory(bench: Bench) -> dict[str, Any]:
    """RSS growth per held connection, each variant on a freshly started server.

    A fresh process per variant keeps one variant's freed-but-kept heap from
    hiding the next one's cost.
    """
    held = bench.settings.held
    result: dict[str, Any] = {"held": held, "rss_before_kib": {}, "rss_held_kib": {}}
    per_conn: dict[str, float] = {}
    for label, command in bench.commands.items():
        for suffix, latency in VARIANTS:
            name = label + suffix
            log = bench.workdir / f"{label}-memory{suffix}.log"
            with running_server(label, command(free_port()), log) as server:
                port = server.create_proxy("bench_memory", bench.direct.echo)
                if latency is not None:
                    for stream in STREAMS:
                        server.add_latency("bench_memory", latency, stream)
                # Warm up first so one-time costs (lazy imports, first buffers)
                # are not charged to the held connections.
                with held_connections(bench.tool, port, min(100, held)):
                    pass
                before = _settled_rss_kib(server)
                with held_connections(bench.tool, port, held):
                    during = _settled_rss_kib(server)
            per_conn[name] = (during - before) * 1024 / held
            result["rss_before_kib"][name] = before
            result["rss_held_kib"][name] = during
            progress(
                f"memory {name}: RSS {before:,} -> {during:,} KiB with {held:,} held, "
                f"{per_conn[name] / 1000:.1f} KB per connection"
            )
    result["bytes_per_connection"] = per_conn
    return result


LATENCY_MODES = ("burst", "spread")


def bench_latency(bench: Bench) -> dict[str, Any]:
    """Accuracy of a 100 ms latency toxic with many connections in flight.

    Two ways to load it, each on every connection once per round:
      burst   every request sent at the same moment: the burst itself queues
              in the client, the echo server, the kernel and the proxy;
      spread  one request every 100 ms / connections, so all of them are in
              flight together at the end while arriving at a steady pace.
    The same load is run directly, alternating with the proxied one, and the
    added delay is each proxied response time minus the median direct one:
    what the toxic (and the proxy) add. The target applies to `spread`, the
    issue's "500 concurrent connections". `burst` is a stress row without a
    target: 500 requests at one instant queue in a one-thread proxy for
    500 x its per-request cost, on top of the toxic. The same burst is also
    sent through the same proxy without a toxic, to show that queueing alone.
    """
    settings = bench.settings
    connections, rounds = settings.latency_connections, settings.latency_rounds
    result: dict[str, Any] = {
        "configured_ms": ACCURACY_LATENCY_MS,
        "connections": connections,
        "rounds": rounds,
    }
    for mode in LATENCY_MODES:
        gap_us = 0 if mode == "burst" else ACCURACY_LATENCY_MS * 1000 // connections
        stats: dict[str, Any] = {"gap_us": gap_us}
        for key in ("p50_ms", "p99_ms", "max_ms", "added_p50_ms", "added_p99_ms"):
            stats[key] = {}
        if mode == "burst":
            stats["toxic_free_p50_ms"] = {}
        direct: list[float] = []
        for label, port in bench.latency_ports.items():
            toxic_free_port = next(route.echo for route in bench.routes if route.name == label)
            proxied_ms: list[float] = []
            toxic_free_ms: list[float] = []
            for _ in range(rounds):
                direct += burst_response_ms(bench.tool, bench.direct.echo, connections, 1, gap_us)
                proxied_ms += burst_response_ms(bench.tool, port, connections, 1, gap_us)
                if mode == "burst":
                    toxic_free_ms += burst_response_ms(
                        bench.tool, toxic_free_port, connections, 1, gap_us
                    )
            if toxic_free_ms:
                stats["toxic_free_p50_ms"][label] = percentile(toxic_free_ms, 0.50)
            baseline = statistics.median(direct)
            added = [sample - baseline for sample in proxied_ms]
            stats["p50_ms"][label] = percentile(proxied_ms, 0.50)
            stats["p99_ms"][label] = percentile(proxied_ms, 0.99)
            stats["max_ms"][label] = max(proxied_ms)
            stats["added_p50_ms"][label] = percentile(added, 0.50)
            stats["added_p99_ms"][label] = percentile(added, 0.99)
            progress(
                f"latency {mode} {label}: responses p50 {stats['p50_ms'][label]:.2f} ms "
                f"p99 {stats['p99_ms'][label]:.2f} ms (direct p50 {baseline:.2f} ms) "
                f"over {len(proxied_ms)} responses"
            )
        if direct:
            stats["p50_ms"]["direct"] = percentile(direct, 0.50)
            stats["p99_ms"]["direct"] = percentile(direct, 0.99)
            stats["max_ms"]["direct"] = max(direct)
        result[mode] = stats
    return result


RUNNERS: dict[str, Callable[[Bench], dict[str, Any]]] = {
    "throughput": bench_throughput,
    "rtt": bench_rtt,
    "connrate": bench_connrate,
    "memory": bench_memory,
    "latency": bench_latency,
}


STREAMS = ("upstream", "downstream")


def add_proxy_routes(server: ProxyServer, direct: Route) -> tuple[list[Route], int]:
    """Create the benchmark proxies on server; its routes and its 100 ms toxic port."""
    routes = []
    for suffix, latency in VARIANTS:
        ports = []
        for target, upstream in (
            ("echo", direct.echo),
            ("closing", direct.closing),
            ("iperf", direct.iperf),
        ):
            name = f"bench_{target}{'_toxic' if latency is not None else ''}"
            ports.append(server.create_proxy(name, upstream))
            if latency is not None:
                for stream in STREAMS:
                    server.add_latency(name, latency, stream)
        routes.append(
            Route(server.label + suffix, ports[0], ports[1], ports[2], server, server.proc)
        )
    accuracy_port = server.create_proxy("bench_latency100", direct.echo)
    server.add_latency("bench_latency100", ACCURACY_LATENCY_MS, "downstream")
    return routes, accuracy_port


def reference_name(threads: int) -> str:
    return f"ref:haproxy-{threads}thread{'' if threads == 1 else 's'}"


def add_reference_routes(
    stack: contextlib.ExitStack, binary: str, threads: list[int], direct: Route, workdir: Path
) -> tuple[list[Route], dict[str, dict[str, Any]]]:
    """One haproxy per thread count in front of the targets; its routes and what it ran."""
    version = haproxy_version(binary)
    upstreams = {"echo": direct.echo, "closing": direct.closing, "iperf": direct.iperf}
    routes, info = [], {}
    for count in threads:
        name = reference_name(count)
        haproxy = stack.enter_context(running_haproxy(binary, count, upstreams, workdir))
        progress(f"started {name}: pid {haproxy.proc.pid}, {version}")
        ports = haproxy.ports
        routes.append(
            Route(name, ports["echo"], ports["closing"], ports["iperf"], None, haproxy.proc, True)
        )
        info[name] = {"version": version, "threads": count, "config": haproxy.config}
    return routes, info


def wants_reference(args: argparse.Namespace) -> bool:
    """Whether haproxy is asked for and some selected benchmark would measure it."""
    selected = args.only or BENCHMARKS
    return bool(args.reference_haproxy) and any(n in REFERENCE_BENCHMARKS for n in selected)


@contextlib.contextmanager
def bench_environment(args: argparse.Namespace, settings: Settings) -> Iterator[Bench]:
    """Targets, proxy servers and proxies; everything stopped and removed on exit."""
    # Before anything starts, so a missing haproxy costs one line and no wait.
    haproxy_bin = find_haproxy(args.haproxy_bin) if wants_reference(args) else None
    with contextlib.ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="hubchaos-proxy-bench-"))
        stack.callback(shutil.rmtree, workdir, True)
        progress("compiling loopback tools, starting echo and iperf3 servers")
        tool = build_tool(workdir)
        echo = stack.enter_context(echo_server(tool))
        closing = stack.enter_context(echo_server(tool, close_after=64))
        iperf = stack.enter_context(iperf3_server(free_port(), workdir / "iperf3.log"))
        direct = Route("direct", echo, closing, iperf)
        commands: dict[str, Callable[[int], list[str]]] = {}
        if not args.skip_embedded:
            commands["hubchaos"] = embedded_command
        if args.toxiproxy_bin:
            binary = str(args.toxiproxy_bin)
            commands["toxiproxy"] = lambda port: toxiproxy_command(binary, port)
        routes, latency_ports = [direct], {}
        for label, command in commands.items():
            argv = command(free_port())
            progress(f"starting {label}: {' '.join(argv)}")
            server = stack.enter_context(running_server(label, argv, workdir / f"{label}.log"))
            server_routes, latency_ports[label] = add_proxy_routes(server, direct)
            routes += server_routes
        reference_info: dict[str, dict[str, Any]] = {}
        if haproxy_bin is not None:
            reference_routes, reference_info = add_reference_routes(
                stack, haproxy_bin, args.haproxy_threads, direct, workdir
            )
            routes += reference_routes
        yield Bench(settings, tool, workdir, routes, commands, latency_ports, reference_info)


@contextlib.contextmanager
def profiled(out_dir: Path | None, bench: Bench, name: str) -> Iterator[None]:
    """py-spy on the embedded proxy while benchmark `name` runs, if asked for.

    The memory benchmark starts its own server processes, so it is not sampled.
    """
    server = next((r.server for r in bench.routes if r.server and r.name == "hubchaos"), None)
    if out_dir is None or server is None or name == "memory":
        yield
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    with py_spy(server.proc.pid, out_dir / f"{name}.txt"):
        yield
    progress(f"profile of {name}: {out_dir / name}.txt(.summary.txt)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark hubchaos proxy (and optionally toxiproxy-server) vs direct loopback."
    )
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    parser.add_argument(
        "--toxiproxy-bin", metavar="PATH", help="also benchmark this toxiproxy-server binary"
    )
    parser.add_argument(
        "--skip-embedded", action="store_true", help="do not benchmark the embedded hubchaos proxy"
    )
    parser.add_argument(
        "--reference-haproxy",
        action="store_true",
        help="also measure HAProxy (TCP mode) for throughput, rtt and connrate as the "
        "machine's reference ceiling (no target, no toxics)",
    )
    parser.add_argument(
        "--haproxy-threads",
        metavar="N[,N...]",
        type=thread_counts,
        help="haproxy nbthread values, one reference route each (default: 1,2)",
    )
    parser.add_argument(
        "--haproxy-bin", metavar="PATH", help="haproxy binary (default: haproxy on PATH or sbin)"
    )
    parser.add_argument("--json", metavar="OUT", type=Path, help="write all results as JSON")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        help="sample the embedded proxy with py-spy during each benchmark (DIR/<name>.txt)",
    )
    parser.add_argument(
        "--only",
        metavar="NAME",
        action="append",
        choices=BENCHMARKS,
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    args = parser.parse_args(argv)
    if not args.reference_haproxy and (args.haproxy_threads or args.haproxy_bin):
        parser.error("--haproxy-threads and --haproxy-bin need --reference-haproxy")
    args.haproxy_threads = args.haproxy_threads or [1, 2]
    return args


def thread_counts(text: str) -> list[int]:
    """Parse "1,2" into [1, 2] for --haproxy-threads."""
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        counts = []
    valid = all(1 <= n <= MAX_THREADS for n in counts) and len(set(counts)) == len(counts)
    if not counts or not valid:
        raise argparse.ArgumentTypeError(
            f"expected distinct thread counts 1-{MAX_THREADS} separated by commas, got {text!r}"
        )
    return counts


def stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so every process the benchmark started is stopped."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    settings = QUICK if args.quick else FULL
    selected = [name for name in BENCHMARKS if not args.only or name in args.only]
    started = datetime.datetime.now(datetime.UTC)
    load_before = os.getloadavg()[0]
    results: dict[str, Any] = {}
    references: list[str] = []
    try:
        with bench_environment(args, settings) as bench:
            routes = {
                route.name: {
                    "api": route.server.url if route.server else None,
                    "ports": {"echo": route.echo, "closing": route.closing, "iperf": route.iperf},
                    "reference": route.reference,
                    **({"haproxy": bench.reference_info[route.name]} if route.reference else {}),
                }
                for route in bench.routes
            }
            references += [route.name for route in bench.routes if route.reference]
            for name in selected:
                if name in ("memory", "latency") and not bench.commands:
                    progress(f"skipping {name}: it needs hubchaos or --toxiproxy-bin (toxics)")
                    continue
                progress(f"== {name}")
                with profiled(args.profile, bench, name):
                    results[name] = RUNNERS[name](bench)
    except LoopbackError as exc:
        print(f"proxy benchmark failed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("proxy benchmark interrupted; everything it started was stopped", file=sys.stderr)
        return 130
    checks = checks_for(results, references)
    load_after = os.getloadavg()[0]
    load = f"{load_before:.2f} at start, {load_after:.2f} at end (1 min, {os.cpu_count()} CPUs)"
    print(render_table(checks, results, load, references))
    if args.json:
        report = {
            "date": started.isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "machine": machine_info(),
            "load_average_1min": {"start": load_before, "end": load_after},
            "settings": asdict(settings),
            "toxic_latency_ms": TOXIC_LATENCY_MS,
            "routes": routes,
            "reference_routes": references,
            "results": results,
            "checks": [asdict(check) for check in checks],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
