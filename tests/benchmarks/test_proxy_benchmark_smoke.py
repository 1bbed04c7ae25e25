"""The proxy benchmark runs end to end in --quick mode and cleans up after itself.

Speed targets are never asserted here (they belong to the benchmark's own
table): these tests prove the harness measures every route, that its numbers
are physically sane, and that it leaves no process or port behind, also when
interrupted. The reference route needs Debian's haproxy, as the benchmark does.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "proxy.py"
PROXIED = ("hubchaos", "hubchaos+latency0")


def _port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2.0)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _run_benchmark(*args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@pytest.mark.slow
def test_quick_run_measures_every_route_and_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = _run_benchmark("--json", str(out), timeout_s=240)
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
    # The burst also goes through the toxic-free proxy: its queueing without the toxic.
    assert 0 < results["latency"]["burst"]["toxic_free_p50_ms"]["hubchaos"] < 50.0

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
    result = _run_benchmark("--skip-embedded", "--toxiproxy-bin", str(missing), timeout_s=60)
    assert result.returncode == 2
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("proxy benchmark failed: cannot start toxiproxy")
    assert str(missing) in last_line
    assert "Traceback" not in result.stderr


REFERENCES = ("ref:haproxy-1thread", "ref:haproxy-2threads")
HAPROXY_PID = re.compile(r"started (ref:haproxy-\S+): pid (\d+)")


def _process_is_gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


@pytest.mark.slow
def test_reference_haproxy_routes_are_measured_without_a_target(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    only = ["--only", "throughput", "--only", "rtt", "--only", "connrate"]
    result = _run_benchmark("--reference-haproxy", *only, "--json", str(out), timeout_s=180)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    routes, results = report["routes"], report["results"]
    assert report["reference_routes"] == list(REFERENCES)
    assert set(routes) == {"direct", *PROXIED, *REFERENCES}
    direct = routes["direct"]["ports"]
    for name, threads in zip(REFERENCES, (1, 2), strict=True):
        route = routes[name]
        assert route["reference"] is True and route["api"] is None
        assert route["haproxy"]["threads"] == threads
        assert route["haproxy"]["version"].startswith("HAProxy 2.")
        config = route["haproxy"]["config"]
        assert "mode tcp" in config and f"nbthread {threads}" in config
        for target in ("echo", "closing", "iperf"):
            # haproxy listens on its own port and forwards to the same target as direct.
            assert route["ports"][target] != direct[target]
            assert f"bind 127.0.0.1:{route['ports'][target]}\n" in config
            assert f"server {target} 127.0.0.1:{direct[target]}\n" in config
        assert results["throughput"]["median"][name] > 0
        assert results["connrate"]["median"][name] > 0
        assert results["rtt"]["count"][name] == report["settings"]["rtt_count"]
        # The traffic really went through haproxy: its process did the work
        # (gigabytes of iperf3 data cannot pass without CPU time being charged).
        assert results["throughput"]["proxy_cpu_share"][name] > 0.05
    assert not any(routes[name]["reference"] for name in ("direct", *PROXIED))

    checks = report["checks"]
    for check in checks:
        if check["route"] in REFERENCES:
            assert (check["target"], check["passed"]) == ("reference", None)
        else:
            assert isinstance(check["passed"], bool) and check["target"] != "reference"
    assert {(c["benchmark"], c["route"]) for c in checks} >= {
        (benchmark, name)
        for benchmark in ("throughput", "rtt added p50", "conn/s")
        for name in REFERENCES
    }
    table, _, summary = result.stdout.partition("\n\n")
    for name in REFERENCES:
        rows = [line for line in table.splitlines() if f" {name} " in line]
        assert len(rows) == 3 and all("reference" in row for row in rows)
    assert "conn/s hubchaos = " in summary and "x ref:haproxy-" in summary

    started = dict(HAPROXY_PID.findall(result.stderr))
    assert set(started) == set(REFERENCES)
    assert all(_process_is_gone(int(pid)) for pid in started.values())
    ports = [port for route in routes.values() for port in route["ports"].values()]
    assert all(_port_is_closed(port) for port in ports)


def test_missing_haproxy_is_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-haproxy"
    result = _run_benchmark("--reference-haproxy", "--haproxy-bin", str(missing), timeout_s=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"proxy benchmark failed: haproxy not found at {missing}: "
        "install it (apt-get install -y haproxy) or fix --haproxy-bin"
    ]


def _read_until(proc: subprocess.Popen[bytes], needle: str, timeout_s: float) -> str:
    """stderr of proc until it contains needle (raw reads: no buffering hides a line)."""
    assert proc.stderr is not None
    fd, text = proc.stderr.fileno(), ""
    deadline = time.monotonic() + timeout_s
    while needle not in text:
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(0.0, remaining))
        chunk = os.read(fd, 65536).decode() if ready else ""
        if not chunk:
            pytest.fail(f"no {needle!r} within {timeout_s:.0f} s; stderr so far:\n{text}")
        text += chunk
    return text


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_run_stops_haproxy(signum: int) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(BENCHMARK),
            "--quick",
            "--skip-embedded",
            "--reference-haproxy",
            "--only",
            "throughput",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # Interrupt mid-measurement; only the benchmark gets the signal (not its
        # process group), so stopping haproxy is the benchmark's own doing.
        before = _read_until(proc, "== throughput\n", 60)
        proc.send_signal(signum)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    stderr = before + rest.decode()
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == (
        "proxy benchmark interrupted; everything it started was stopped"
    )
    pids = [int(pid) for _, pid in HAPROXY_PID.findall(stderr)]
    assert len(pids) == 2
    assert all(_process_is_gone(pid) for pid in pids)
