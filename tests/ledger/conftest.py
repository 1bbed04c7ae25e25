"""A Toxiproxy-compatible server of the tests' own (so it can be frozen), two proxies
on it, and stand-in runners that inject faults and get killed.

Every test taking `server` runs twice: on the embedded proxy, and on a real
`toxiproxy-server` when one is found (tests/real_toxiproxy.py), skipped otherwise
with that module's line saying how to get one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.experiments.conftest import hub_stack  # noqa: F401  (one stack for the matrix)
from tests.real_toxiproxy import RealToxiproxy, real_toxiproxy_binary, real_toxiproxy_test

REPO = Path(__file__).resolve().parents[2]
PROXIES = ("hub_db", "hub_web")


def wait_until(condition: Callable[[], bool], seconds: float, step: float = 0.05) -> float | None:
    """Seconds until `condition()` held, or None if it never did within `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if condition():
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(step)
    return None


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[Any] | None

    def faults(self) -> dict[str, Any]:
        """Toxics and disabled proxies, read from the server itself."""
        proxies = httpx.get(f"{self.url}/proxies", timeout=5).json()
        return {
            name: {"enabled": p["enabled"], "toxics": sorted(t["name"] for t in p["toxics"])}
            for name, p in proxies.items()
            if p["toxics"] or not p["enabled"]
        }

    def at_baseline(self) -> bool:
        return self.faults() == {}

    def freeze(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)


def _add_proxies(url: str) -> None:
    for name in PROXIES:
        httpx.post(
            f"{url}/proxies",
            json={"name": name, "listen": f"127.0.0.1:{free_port()}", "upstream": "127.0.0.1:9"},
            timeout=5,
        ).raise_for_status()


def _embedded_server() -> Iterator[Server]:
    """The embedded server, or a Toxiproxy-compatible one at TOXIPROXY_URL."""
    external = os.environ.get("TOXIPROXY_URL")
    proc = None
    if external:
        url = external.rstrip("/")
    else:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "hubchaos", "proxy", "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_until(lambda: httpx.get(f"{url}/version", timeout=1).status_code == 200, 15)
    _add_proxies(url)
    yield Server(url, proc)
    if proc is not None:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=10)
    else:
        for name in PROXIES:
            httpx.delete(f"{url}/proxies/{name}", timeout=5)


def _real_server() -> Iterator[Server]:
    """A private real toxiproxy-server (its process is ours, so it can be frozen too)."""
    with RealToxiproxy(real_toxiproxy_binary()) as real:
        _add_proxies(real.url)
        try:
            yield Server(real.url, real.proc)
        finally:
            real.proc.send_signal(signal.SIGCONT)  # a frozen server would not stop


@pytest.fixture(params=["embedded", pytest.param("real-toxiproxy", marks=real_toxiproxy_test)])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The embedded proxy, then the real toxiproxy-server (skipped when there is none)."""
    if request.param == "embedded":
        yield from _embedded_server()
    else:
        yield from _real_server()


class Runner:
    """A stand-in runner process (tests/ledger/fault_child.py) holding faults."""

    def __init__(self, state_dir: Path, url: str, lease_s: float, *faults: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ledger.fault_child", str(state_dir), url,
             str(lease_s), *faults],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"

    def kill(self, signum: int = signal.SIGKILL) -> None:
        self.proc.send_signal(signum)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture
def runners() -> Iterator[Callable[..., Runner]]:
    started: list[Runner] = []

    def start(state_dir: Path, url: str, lease_s: float, *faults: str) -> Runner:
        runner = Runner(state_dir, url, lease_s, *faults)
        started.append(runner)
        return runner

    yield start
    for runner in started:
        runner.close()
