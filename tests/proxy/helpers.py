"""Small helpers shared by the Toxiproxy conformance tests.

Everything here talks to 127.0.0.1 only, every socket call has a timeout and
every background thread stops by itself after a bounded lifetime.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx
import pytest

LOOPBACK = "127.0.0.1"
API_TIMEOUT_S = 5.0


def external_server() -> bool:
    """True when TOXIPROXY_URL sends the tests to an external (real) Toxiproxy."""
    return bool(os.environ.get("TOXIPROXY_URL"))


IMPROVEMENT_MARK = "hubchaos_improvement"


def improvement(why: str, *, upstream: str, asserted: bool = False) -> pytest.MarkDecorator:
    """Mark a test of a deliberate hubchaos improvement over Toxiproxy 2.12.

    `upstream` is what the real 2.12 server does instead, as measured (README,
    "Differences from Toxiproxy 2.12"). Against an external server such a test
    is skipped with that reason, unless `asserted`: then the test itself checks
    upstream's measured behaviour under `external_server()`, so the difference
    stays proven in both modes. Tests without this mark are upstream-compatible
    and must pass against both servers.
    """
    return pytest.mark.hubchaos_improvement(why=why, upstream=upstream, asserted=asserted)


def skip_reason(mark: pytest.Mark) -> str | None:
    """Why an improvement test is skipped against an external server (None: it runs)."""
    if mark.kwargs.get("asserted"):
        return None
    return f"hubchaos improvement ({mark.kwargs['why']}); Toxiproxy 2.12: {mark.kwargs['upstream']}"


def api_error(response: httpx.Response) -> str:
    """The `error` text of an upstream-shaped error body, after checking the shape."""
    body = response.json()
    assert isinstance(body, dict), body
    assert body.get("status") == response.status_code, body
    message = body.get("error")
    assert isinstance(message, str), body
    return message


def create_proxy(
    api: httpx.Client, name: str, upstream: str, listen: str = f"{LOOPBACK}:0", **extra: Any
) -> dict[str, Any]:
    response = api.post(
        "/proxies", json={"name": name, "listen": listen, "upstream": upstream, **extra}
    )
    assert response.status_code == 201, response.text
    proxy: dict[str, Any] = response.json()
    return proxy


def listen_port(proxy: dict[str, Any]) -> int:
    host, _, port = str(proxy["listen"]).rpartition(":")
    assert host in (LOOPBACK, "localhost"), proxy
    return int(port)


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    """Poll `condition` until it holds or the timeout passes; return its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def roundtrip(
    port: int, payload: bytes = b"ping", reply_size: int | None = None, timeout_s: float = 5.0
) -> tuple[bytes, float]:
    """Send `payload` on a fresh connection; return the reply and the elapsed seconds.

    Reads until `reply_size` bytes (default: as many as were sent) arrived, the
    peer closed, or the timeout passed.
    """
    started = time.monotonic()
    with socket.create_connection((LOOPBACK, port), timeout=timeout_s) as sock:
        sock.sendall(payload)
        wanted = len(payload) if reply_size is None else reply_size
        return _read_reply(sock, wanted, timeout_s), time.monotonic() - started


def echo_reply(port: int, payload: bytes, prefix: bytes = b"A:") -> bytes:
    """What an EchoServer with `prefix` behind the proxy on `port` answers to `payload`."""
    return roundtrip(port, payload, reply_size=len(prefix) + len(payload))[0]


def _read_reply(sock: socket.socket, at_least: int, timeout_s: float) -> bytes:
    received = b""
    deadline = time.monotonic() + timeout_s
    while len(received) < at_least and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def connection_refused(port: int) -> bool:
    """True when nothing accepts on the port, or what accepts closes at once without data."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1.0) as sock:
            sock.settimeout(1.0)
            sock.sendall(b"x")
            return sock.recv(16) == b""
    except OSError:
        return True


def read_exactly(sock: socket.socket, size: int) -> bytes:
    """Up to `size` bytes: fewer only if the peer closes first."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_until_closed(sock: socket.socket, timeout_s: float) -> tuple[bytes, bool]:
    """Everything the peer sends until it closes; (data, closed_before_timeout)."""
    received = b""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except OSError:
            return received, True
        if not chunk:
            return received, True
        received += chunk
    return received, False


class EchoServer:
    """A loopback TCP echo server in background threads.

    Replies to every chunk with `prefix + chunk`, so tests can tell two upstreams
    apart. Stops on `close()` or by itself after `lifetime_s`.
    """

    def __init__(self, prefix: bytes = b"", lifetime_s: float = 120.0) -> None:
        self.prefix = prefix
        self._deadline = time.monotonic() + lifetime_s
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(128)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def _accept_loop(self) -> None:
        while self._running():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            conn.settimeout(0.05)
            worker = threading.Thread(target=self._echo, args=(conn,), daemon=True)
            with self._lock:
                self._connections.append(conn)
                self._threads.append(worker)
            worker.start()

    def _echo(self, conn: socket.socket) -> None:
        with conn:
            while self._running():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                try:
                    conn.sendall(self.prefix + data)
                except OSError:
                    return

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() on Linux
        self._acceptor.join(timeout=2.0)
        self._listener.close()
        with self._lock:
            connections, threads = list(self._connections), list(self._threads)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for worker in threads:
            worker.join(timeout=2.0)

    def __enter__(self) -> EchoServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
