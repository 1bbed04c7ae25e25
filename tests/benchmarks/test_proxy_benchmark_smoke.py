"""The proxy benchmark runs end to end in --quick mode and cleans up after itself.

Speed targets are never asserted here (they belong to the benchmark's own
table): these tests prove the harness measures every route, that its numbers
are physically sane, and that it leaves no process or port behind.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "proxy.py"
PROXIED = ("hubchaos", "hubchaos+latency0")


def _port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2.0)
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.slow
def test_quick_run_measures_every_route_and_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    routes = report["routes"]
    assert set(routes) == {"direct", *PROXIED}
    results = report["results"]

    for name in ("direct", *PROXIED):
        assert results["throughput"]["median"][name] > 0
        assert results["connrate"]["median"][name] > 0
        assert results["rtt"]["count"][name] == report["settings"]["rtt_count"]
        assert 0 < results["rtt"]["p50"][name] <= results["rtt"]["p99"][name]
    for name in PROXIED:
        assert results["memory"]["rss_held_kib"][name] > 0
    for mode in ("burst", "spread"):
        latency = results["latency"][mode]
        # A response behind a 100 ms latency toxic can't come sooner (1 ms: timer granularity)
        # and one without it comes much sooner.
        assert latency["p50_ms"]["hubchaos"] >= 99.0
        assert latency["p99_ms"]["hubchaos"] >= latency["p50_ms"]["hubchaos"]
        assert latency["p50_ms"]["direct"] < 50.0

    checks = report["checks"]
    assert {(c["benchmark"], c["route"]) for c in checks} >= {
        ("throughput", "hubchaos+latency0"),
        ("rtt added p50", "hubchaos+latency0"),
        ("conn/s", "hubchaos+latency0"),
        ("memory/held conn", "hubchaos"),
        ("100 ms toxic, burst", "hubchaos"),
        ("100 ms toxic, spread", "hubchaos"),
    }
    table = result.stdout
    assert all(c["route"] in table and c["target"] in table for c in checks)
    assert "[proxy-bench" in result.stderr and "[proxy-bench" not in table  # progress on stderr

    # Everything it started is gone: targets, proxies and the API.
    ports = [port for route in routes.values() for port in route["ports"].values()]
    api_port = int(routes["hubchaos"]["api"].rsplit(":", 1)[1])
    assert all(_port_is_closed(port) for port in [*ports, api_port])


def test_unstartable_server_is_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-toxiproxy-server"
    result = subprocess.run(
        [
            sys.executable,
            str(BENCHMARK),
            "--quick",
            "--skip-embedded",
            "--toxiproxy-bin",
            str(missing),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("proxy benchmark failed: cannot start toxiproxy")
    assert str(missing) in last_line
    assert "Traceback" not in result.stderr
