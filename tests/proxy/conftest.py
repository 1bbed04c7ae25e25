"""Fixtures for the Toxiproxy-compatible server.

By default the embedded server (`hubchaos proxy`) runs in a subprocess on a free
loopback port. With TOXIPROXY_URL set, every test runs against that server
instead (a real Toxiproxy, to prove the two are interchangeable).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.proxy.helpers import IMPROVEMENT_MARK, external_server, skip_reason


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{IMPROVEMENT_MARK}(why, upstream, asserted): a deliberate improvement over "
        "Toxiproxy 2.12 (tests/proxy/helpers.py: improvement)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Against a real Toxiproxy, an improvement whose test does not assert
    # upstream's behaviour is skipped, naming what upstream does instead.
    if not external_server():
        return
    for item in items:
        mark = item.get_closest_marker(IMPROVEMENT_MARK)
        reason = skip_reason(mark) if mark is not None else None
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def _wait_for_api(url: str, proc: subprocess.Popen[Any] | None, deadline_s: float) -> None:
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


# -- data-plane fixtures: loopback servers behind the proxy under test -------------------

LOOPBACK = "127.0.0.1"
IO_TIMEOUT_S = 5.0


class TcpServer:
    """A threaded loopback TCP server running `handler(conn)` per connection.

    Threads are daemons, every socket has a timeout, and `close()` shuts the
    listener and every accepted connection, so nothing outlives the test.
    """

    def __init__(self, handler: Callable[[socket.socket], None]) -> None:
        self.handler = handler
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(256)
        self.listener.settimeout(0.2)
        self.port: int = self.listener.getsockname()[1]
        self.address = f"{LOOPBACK}:{self.port}"
        self.connections: list[socket.socket] = []
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(IO_TIMEOUT_S)
            self.connections.append(conn)
            self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self.handler(conn)

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        self._thread.join(timeout=2)
        for conn in self.connections:
            with contextlib.suppress(OSError):
                conn.close()


def read_exactly(sock: socket.socket, size: int) -> bytes:
    """Read `size` bytes or fail (EOF or the socket's timeout)."""
    chunks = bytearray()
    while len(chunks) < size:
        data = sock.recv(min(65536, size - len(chunks)))
        if not data:
            raise AssertionError(f"EOF after {len(chunks)} of {size} bytes")
        chunks += data
    return bytes(chunks)


def read_to_eof(sock: socket.socket) -> bytes:
    """Read until the peer closes (bounded by the socket's timeout)."""
    chunks = bytearray()
    while True:
        data = sock.recv(65536)
        if not data:
            return bytes(chunks)
        chunks += data


def echo_handler(conn: socket.socket) -> None:
    """Echo everything; answer EOF with EOF."""
    while True:
        data = conn.recv(65536)
        if not data:
            conn.shutdown(socket.SHUT_WR)
            return
        conn.sendall(data)


@pytest.fixture
def tcp_server() -> Iterator[Callable[[Callable[[socket.socket], None]], TcpServer]]:
    """Factory: start a loopback server with a per-connection handler."""
    servers: list[TcpServer] = []

    def start(handler: Callable[[socket.socket], None]) -> TcpServer:
        server = TcpServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def echo_server(tcp_server: Callable[[Callable[[socket.socket], None]], TcpServer]) -> TcpServer:
    return tcp_server(echo_handler)


@pytest.fixture(scope="session")
def api_client(toxiproxy_url: str) -> Iterator[httpx.Client]:
    # One client for the session: building an httpx.Client costs tens of milliseconds.
    with httpx.Client(base_url=toxiproxy_url, timeout=IO_TIMEOUT_S) as client:
        yield client


@pytest.fixture(name="api")
def api_fixture(toxiproxy: str, api_client: httpx.Client) -> httpx.Client:
    """`api`: the one proxy-API client fixture; every proxy is deleted after the test.

    Other test packages import `api_fixture` (and `api_client`) to use it.
    """
    return api_client


class ProxyUnderTest:
    """A proxy created through the API, with shortcuts for its toxics and clients."""

    def __init__(self, api: httpx.Client, name: str, upstream: str) -> None:
        self.api = api
        self.name = name
        response = api.post(
            "/proxies", json={"name": name, "listen": f"{LOOPBACK}:0", "upstream": upstream}
        )
        assert response.status_code == 201, response.text
        self.port = int(response.json()["listen"].rpartition(":")[2])

    def add_toxic(self, type_: str, stream: str = "downstream", **attributes: int) -> str:
        return self.add({"type": type_, "stream": stream, "attributes": attributes})

    def add(self, body: dict[str, Any]) -> str:
        response = self.api.post(f"/proxies/{self.name}/toxics", json=body)
        assert response.status_code == 200, response.text
        name: str = response.json()["name"]
        return name

    def update_toxic(self, toxic: str, body: dict[str, Any]) -> None:
        response = self.api.patch(f"/proxies/{self.name}/toxics/{toxic}", json=body)
        assert response.status_code == 200, response.text

    def remove_toxic(self, toxic: str) -> None:
        response = self.api.delete(f"/proxies/{self.name}/toxics/{toxic}")
        assert response.status_code == 204, response.text

    def set_enabled(self, enabled: bool) -> None:
        response = self.api.patch(f"/proxies/{self.name}", json={"enabled": enabled})
        assert response.status_code == 200, response.text

    def connect(self, timeout_s: float = IO_TIMEOUT_S) -> socket.socket:
        sock = socket.create_connection((LOOPBACK, self.port), timeout=timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


@pytest.fixture
def make_proxy(api: httpx.Client) -> Callable[[str], ProxyUnderTest]:
    """Factory: a proxy in front of `upstream` ("host:port"), deleted after the test."""
    count = 0

    def make(upstream: str) -> ProxyUnderTest:
        nonlocal count
        count += 1
        return ProxyUnderTest(api, f"dp{count}", upstream)

    return make


class ServerProcess:
    """An extra `hubchaos proxy` subprocess, for options the shared server doesn't use."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        command = [sys.executable, "-m", "hubchaos", "proxy", "--port", str(self.port), *args]
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def wait_ready(self) -> None:
        _wait_for_api(self.url, self.proc, 15.0)

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM, then the exit code and output."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            out, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, out, err


@pytest.fixture
def proxy_process() -> Iterator[Callable[..., ServerProcess]]:
    """Factory: start `hubchaos proxy ARGS...` on a free port; stopped after the test."""
    started: list[ServerProcess] = []

    def start(*args: str, wait: bool = True) -> ServerProcess:
        server = ServerProcess(*args)
        started.append(server)
        if wait:
            server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()
