"""The safety control's end-of-run check when the Toxiproxy API blinks.

On Kubernetes the runner reaches the API through a port-forward that kubectl
ends whenever chaos resets a connection inside the pod; the keeper restarts it
within a second. A check that landed in that second used to report the run as
not clean. Here a real socket plays the API: it answers, then refuses
connections for a moment, then answers again on the same port.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hubchaos.controls import baseline

PROXIES = b'{"hub_db": {"name": "hub_db", "enabled": true, "toxics": []}}'


class BlinkingApi:
    """GET /proxies on a loopback port that can stop listening and come back."""

    def __init__(self) -> None:
        self.serving: socket.socket | None = None
        self.port = 0
        self.standby = self._bound()  # holds the port while nothing listens
        self.threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _bound(self) -> socket.socket:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        return sock

    def listen(self) -> None:
        sock, self.standby = self.standby, self._bound()
        sock.listen(16)
        sock.settimeout(0.2)
        self.serving = sock
        thread = threading.Thread(target=self._answer, args=(sock,), daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop_listening(self) -> None:
        sock, self.serving = self.serving, None
        if sock is not None:
            sock.close()
        for thread in self.threads:
            thread.join(timeout=5)

    def close(self) -> None:
        self.stop_listening()
        self.standby.close()

    def _answer(self, sock: socket.socket) -> None:
        while self.serving is sock:
            try:
                conn, _ = sock.accept()
            except OSError:
                continue  # a timeout, or the socket was closed: look at `serving` again
            with conn:
                conn.recv(65536)
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(PROXIES)}\r\n"
                conn.sendall(head.encode() + b"Connection: close\r\n\r\n" + PROXIES)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[BlinkingApi]:
    # the lease belongs to a run; this test checks the server reading alone
    monkeypatch.setattr(baseline.fault_ledger, "hold_lease", lambda configuration: None)
    blinking = BlinkingApi()
    blinking.listen()
    yield blinking
    blinking.close()


def _summary() -> dict[str, Any]:
    return {"errors": []}


def test_a_moment_of_refused_connections_is_not_called_unclean(api: BlinkingApi) -> None:
    configuration = {"hubchaos_toxiproxy_url": api.url}
    baseline.take_baseline(configuration)
    api.stop_listening()
    back = threading.Timer(1.0, api.listen)
    back.start()
    summary = _summary()
    started = time.monotonic()
    baseline.back_to_baseline(configuration, summary)
    back.join()
    assert summary["errors"] == [] and summary["left_behind"] == []
    assert 0.9 <= time.monotonic() - started < baseline.UNREADABLE_FOR_S


def test_an_api_that_stays_away_is_reported_after_a_few_seconds(api: BlinkingApi) -> None:
    configuration = {"hubchaos_toxiproxy_url": api.url}
    baseline.take_baseline(configuration)
    api.stop_listening()
    summary = _summary()
    started = time.monotonic()
    baseline.back_to_baseline(configuration, summary)
    took = time.monotonic() - started
    assert len(summary["errors"]) == 1, summary
    assert "ConnectionRefusedError" in summary["errors"][0]
    assert baseline.UNREADABLE_FOR_S - 0.5 <= took < baseline.UNREADABLE_FOR_S + 2
