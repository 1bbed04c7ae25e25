"""A Toxiproxy-compatible server under test, driven only through its HTTP API.

The embedded `hubchaos proxy` and a real `toxiproxy-server` are started and
configured the same way, so one benchmark measures either.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _loopback import LoopbackError, stop_process

API_TIMEOUT_S = 10.0


def embedded_command(port: int) -> list[str]:
    return [sys.executable, "-m", "hubchaos", "proxy", "--host", "127.0.0.1", "--port", str(port)]


def toxiproxy_command(binary: str, port: int) -> list[str]:
    return [binary, "-host", "127.0.0.1", "-port", str(port)]


@dataclass
class ProxyServer:
    """A running server: its API URL and the process whose memory is measured."""

    label: str
    url: str
    proc: subprocess.Popen[bytes]

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=API_TIMEOUT_S) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace").strip()
            raise LoopbackError(f"{self.label}: {method} {path} -> {exc.code} {detail}") from None
        except OSError as exc:
            raise LoopbackError(f"{self.label}: {method} {path} failed: {exc}") from None
        return json.loads(raw) if raw.strip() else None

    def create_proxy(self, name: str, upstream_port: int) -> int:
        """Create a proxy listening on a free loopback port; return that port."""
        created = self.request(
            "POST",
            "/proxies",
            {"name": name, "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{upstream_port}"},
        )
        return int(str(created["listen"]).rsplit(":", 1)[1])

    def add_latency(self, proxy: str, latency_ms: int, stream: str) -> None:
        self.request(
            "POST",
            f"/proxies/{proxy}/toxics",
            {
                "name": f"latency_{stream}",
                "type": "latency",
                "stream": stream,
                "toxicity": 1.0,
                "attributes": {"latency": latency_ms, "jitter": 0},
            },
        )

    def rss_kib(self) -> int:
        """Resident memory of the server process (VmRSS, KiB)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise LoopbackError(f"{self.label}: no VmRSS for pid {self.proc.pid}")


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()
    return lines[-1] if lines else "no output"


def _wait_until_serving(url: str, proc: subprocess.Popen[bytes], log: Path, label: str) -> None:
    deadline = time.monotonic() + 20.0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LoopbackError(f"{label} exited with {proc.returncode}: {_last_line(log)}")
        try:
            with urllib.request.urlopen(f"{url}/version", timeout=1.0) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise LoopbackError(f"{label} API at {url} not answering after 20 s: {_last_line(log)}")


@contextlib.contextmanager
def running_server(label: str, command: list[str], log: Path) -> Iterator[ProxyServer]:
    """Start a server whose command ends with its API port; stop it on exit."""
    url = f"http://127.0.0.1:{command[-1]}"
    with log.open("w") as log_file:
        try:
            proc = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
        except OSError as exc:
            raise LoopbackError(f"cannot start {label} ({command[0]}): {exc}") from None
    try:
        _wait_until_serving(url, proc, log, label)
        yield ProxyServer(label=label, url=url, proc=proc)
    finally:
        stop_process(proc)
