"""Fixtures for the Toxiproxy-compatible server.

By default the embedded server (`hubchaos proxy`) runs in a subprocess on a free
loopback port. With TOXIPROXY_URL set, every test runs against that server
instead (a real Toxiproxy, to prove the two are interchangeable).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import free_port


def _wait_for_api(url: str, proc: subprocess.Popen[bytes] | None, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"hubchaos proxy exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/version", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"Toxiproxy API at {url} not ready after {deadline_s}s")


@pytest.fixture(scope="session")
def toxiproxy_url() -> Iterator[str]:
    external = os.environ.get("TOXIPROXY_URL")
    if external:
        _wait_for_api(external.rstrip("/"), None, 5.0)
        yield external.rstrip("/")
        return
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubchaos", "proxy", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_api(url, proc, 15.0)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def toxiproxy(toxiproxy_url: str) -> Iterator[str]:
    """The API URL, with every proxy deleted after the test so tests stay independent."""
    yield toxiproxy_url
    with httpx.Client(base_url=toxiproxy_url, timeout=5.0) as client:
        for name in client.get("/proxies").json():
            client.delete(f"/proxies/{name}")
