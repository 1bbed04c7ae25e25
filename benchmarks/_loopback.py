"""Loopback load generators for the proxy benchmark.

The clients and the echo server are the small C program `_loopback.c`, compiled
with gcc at benchmark time, so the harness itself costs microseconds and the
same client measures the direct path and the proxied one. Throughput comes
from iperf3. Every process started here is stopped by the context manager or
the call that started it, and every wait carries a timeout.
"""

from __future__ import annotations

import contextlib
import json
import select
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

_SOURCE = Path(__file__).with_name("_loopback.c")


class LoopbackError(RuntimeError):
    """A load generator or target could not run; the message says which and why."""


def build_tool(workdir: Path) -> Path:
    """Compile the C tools into workdir and return the binary's path."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise LoopbackError("gcc not found: install it (apt-get install -y gcc)")
    binary = workdir / "loopback"
    result = subprocess.run(
        [gcc, "-O2", "-Wall", "-o", str(binary), str(_SOURCE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise LoopbackError(f"compiling {_SOURCE.name} failed: {result.stderr.strip()}")
    return binary


def free_port() -> int:
    """A loopback port that was free a moment ago (for servers that need one up front)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(proc: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """Terminate, then kill if it does not exit within 5 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _read_line(proc: subprocess.Popen[str], timeout_s: float, what: str) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    line = proc.stdout.readline() if ready else ""
    if not line:
        raise LoopbackError(f"{what} printed nothing within {timeout_s:.0f} s")
    return line.strip()


@contextlib.contextmanager
def echo_server(tool: Path, close_after: int = 0) -> Iterator[int]:
    """An echo server on a free loopback port; yields the port.

    close_after > 0 makes the server close each connection once it has echoed
    that many bytes (the server-closes pattern of the connection-rate test).
    """
    proc = subprocess.Popen(
        [str(tool), "echo", "0", str(close_after)], stdout=subprocess.PIPE, text=True
    )
    try:
        yield int(_read_line(proc, 10.0, "echo server"))
    finally:
        stop_process(proc)


@contextlib.contextmanager
def iperf3_server(port: int, log_file: Path) -> Iterator[int]:
    """`iperf3 -s` on port, logging to log_file; yields the port once it listens."""
    iperf3 = shutil.which("iperf3")
    if iperf3 is None:
        raise LoopbackError("iperf3 not found: install it (apt-get install -y iperf3)")
    with log_file.open("w") as log:
        proc = subprocess.Popen(
            [iperf3, "-s", "-B", "127.0.0.1", "-p", str(port), "--forceflush"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 10.0
        while "Server listening" not in log_file.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise LoopbackError(f"iperf3 server did not start: see {log_file}")
            time.sleep(0.05)
        yield port
    finally:
        stop_process(proc)


def iperf3_throughput(port: int, seconds: float) -> float:
    """Bits per second received by the iperf3 server through 127.0.0.1:port.

    The control connection and the data stream both connect to that port, so
    through a proxy both pass the proxy. A server still finishing the previous
    test answers "busy": that is retried a few times.
    """
    command = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", f"{seconds:g}", "-J"]
    command += ["--connect-timeout", "5000"]
    error = ""
    for _attempt in range(5):
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=seconds + 30, check=False
            )
        except subprocess.TimeoutExpired:
            raise LoopbackError(
                f"iperf3 via port {port} did not finish within {seconds + 30:.0f} s"
            ) from None
        try:
            report = json.loads(result.stdout)
        except json.JSONDecodeError:
            report = {"error": result.stderr.strip() or "no JSON output"}
        if "error" not in report:
            return float(report["end"]["sum_received"]["bits_per_second"])
        error = str(report["error"])
        if "busy" not in error:
            break
        time.sleep(0.5)
    raise LoopbackError(f"iperf3 via port {port} failed: {error}")


def _run_tool(tool: Path, args: list[str], timeout_s: float, what: str) -> str:
    try:
        result = subprocess.run(
            [str(tool), *args], capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise LoopbackError(f"{what} did not finish within {timeout_s:.0f} s") from exc
    if result.returncode != 0:
        raise LoopbackError(f"{what} failed: {result.stderr.strip()}")
    return result.stdout


def pingpong_rtts_us(tool: Path, port: int, count: int, size: int = 64) -> list[float]:
    """Round-trip times (microseconds) of `count` size-byte exchanges on one connection."""
    warmup = max(count // 20, 10)
    out = _run_tool(
        tool, ["pingpong", str(port), str(count), str(size), str(warmup), "30"], 45, "pingpong"
    )
    return [int(line) / 1000.0 for line in out.split()]


def connection_rate(tool: Path, port: int, seconds: float, clients: int) -> float:
    """Completed connect+exchange+close cycles per second over `clients` processes."""
    millis = str(int(seconds * 1000))
    procs = [
        subprocess.Popen(
            [str(tool), "connrate", str(port), millis, "64", "10000000"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(clients)
    ]
    total = 0
    longest_ns = 0
    errors = 0
    try:
        for proc in procs:
            try:
                out, err = proc.communicate(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                raise LoopbackError(f"connrate via port {port} did not finish") from None
            if proc.returncode != 0:
                raise LoopbackError(f"connrate client failed: {err.strip()}")
            count, failed, elapsed_ns = (int(field) for field in out.split())
            total += count
            errors += failed
            longest_ns = max(longest_ns, elapsed_ns)
    finally:
        for proc in procs:
            stop_process(proc)
    if errors > total // 100:
        raise LoopbackError(f"connrate via port {port}: {errors} failed of {total + errors}")
    return total / (longest_ns / 1e9)


@contextlib.contextmanager
def held_connections(tool: Path, port: int, count: int, max_s: int = 120) -> Iterator[None]:
    """Hold `count` connections open through port (1 byte echoed on each) while inside."""
    proc = subprocess.Popen(
        [str(tool), "hold", str(port), str(count), str(max_s)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60.0)
        line = proc.stdout.readline().strip() if ready else ""
        if line != f"ready {count}":
            stop_process(proc)
            reason = proc.stderr.read().strip() or "not ready within 60 s"
            raise LoopbackError(f"holding {count} connections via port {port} failed: {reason}")
        yield
    finally:
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stop_process(proc)


def burst_response_ms(
    tool: Path, port: int, connections: int, rounds: int, gap_us: int = 0
) -> list[float]:
    """Response times (ms) of one 64-byte request per connection per round.

    gap_us 0 sends every request at once; otherwise one request every gap_us.
    """
    pacing_s = connections * gap_us / 1e6
    out = _run_tool(
        tool,
        ["burst", str(port), str(connections), str(rounds), "64", "10000", str(gap_us)],
        30 + (12 + pacing_s) * rounds,
        "burst",
    )
    return [int(line) / 1e6 for line in out.split()]
