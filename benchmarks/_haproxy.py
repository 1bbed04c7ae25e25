"""HAProxy as a reference route: what a mature C proxy reaches on this machine.

It runs in TCP mode with one `listen` section per loopback target and no
toxics, so it only answers "how close to direct can any user-space proxy get
here?". It runs in the foreground (`-db`, no `daemon`) as our child, so the
context manager that starts it is the one that stops it.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from _loopback import LoopbackError, free_port, stop_process

INSTALL_HINT = "apt-get install -y haproxy"
# Debian installs it in /usr/sbin, which is not on a non-root user's PATH.
_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin")
MAX_THREADS = 64  # Debian's build: MAX_THREADS=64


@dataclass
class Haproxy:
    """A running haproxy: its process (for CPU time) and one listen port per target."""

    threads: int
    proc: subprocess.Popen[bytes]
    ports: dict[str, int]
    config: str


def find_haproxy(explicit: str | None = None) -> str:
    """The haproxy binary to run, or a LoopbackError saying how to install it."""
    if explicit is not None:
        if shutil.which(explicit) is None:
            raise LoopbackError(
                f"haproxy not found at {explicit}: install it ({INSTALL_HINT}) or fix --haproxy-bin"
            )
        return explicit
    search_path = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN_DIRS])
    found = shutil.which("haproxy", path=search_path)
    if found is None:
        raise LoopbackError(f"haproxy not found: install it ({INSTALL_HINT})")
    return found


def haproxy_version(binary: str) -> str:
    """E.g. "HAProxy 2.6.12-1+deb12u4", from `haproxy -v`."""
    result = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10, check=False)
    words = result.stdout.split()
    return f"HAProxy {words[2]}" if words[:2] == ["HAProxy", "version"] else "HAProxy (unknown)"


def max_connections() -> int:
    """A maxconn haproxy can get file descriptors for under this process's hard limit.

    haproxy raises its FD limit to about 2.5x maxconn (two sockets per
    connection, plus one splice pipe per four) and refuses to start when the
    hard limit is lower; the benchmarks never hold more than a few hundred.
    """
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        return 8000
    return max(100, min(8000, (hard - 100) * 2 // 5))


def render_config(threads: int, routes: dict[str, tuple[int, int]]) -> str:
    """haproxy.cfg text; routes maps a target name to (listen port, upstream port)."""
    maxconn = max_connections()
    lines = [
        "# Written by benchmarks/proxy.py --reference-haproxy; deleted after the run.",
        "global",
        f"    nbthread {threads}",
        f"    maxconn {maxconn}",
        "",
        "defaults",
        "    mode tcp",
        f"    maxconn {maxconn}",
        "    timeout connect 5s",
        # Long enough for an iperf3 control connection that idles during a test.
        "    timeout client 120s",
        "    timeout server 120s",
        # splice() both ways, as the hubchaos proxy does on its fast path:
        # `splice-auto` rarely engaged on loopback and got half the iperf3 throughput.
        "    option splice-request",
        "    option splice-response",
    ]
    for target, (listen, upstream) in routes.items():
        lines += [
            "",
            f"listen {target}",
            f"    bind 127.0.0.1:{listen}",
            f"    server {target} 127.0.0.1:{upstream}",
        ]
    return "\n".join(lines) + "\n"


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()
    return lines[-1] if lines else "no output"


def _check_config(binary: str, config: Path) -> None:
    result = subprocess.run(
        [binary, "-c", "-q", "-f", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stderr + result.stdout).strip().splitlines()
        alerts = [line for line in output if "ALERT" in line] or output or ["no output"]
        raise LoopbackError(f"haproxy rejected {config.name}: {alerts[-1]}")


def _wait_until_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """haproxy binds every listener before it serves any, so one port answering is enough."""
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LoopbackError(f"haproxy exited with {proc.returncode}: {_last_line(log)}")
        with socket.socket() as sock:
            sock.settimeout(1.0)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise LoopbackError(f"haproxy not listening on {port} after 10 s: {_last_line(log)}")


@contextlib.contextmanager
def running_haproxy(
    binary: str, threads: int, upstreams: dict[str, int], workdir: Path
) -> Iterator[Haproxy]:
    """haproxy with `threads` threads proxying each target in upstreams; stopped on exit.

    upstreams maps a target name to its port; its first target must be safe to
    connect to and close at once (the echo server), as that is the readiness probe.
    """
    routes = {target: (free_port(), upstream) for target, upstream in upstreams.items()}
    config_text = render_config(threads, routes)
    config = workdir / f"haproxy-{threads}thread.cfg"
    config.write_text(config_text)
    _check_config(binary, config)
    log = workdir / f"haproxy-{threads}thread.log"
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            [binary, "-db", "-f", str(config)], stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        ports = {target: listen for target, (listen, _) in routes.items()}
        _wait_until_listening(proc, next(iter(ports.values())), log)
        yield Haproxy(threads, proc, ports, config_text)
    finally:
        stop_process(proc)  # SIGTERM: haproxy's immediate stop
