"""Toxics never lose, duplicate or reorder bytes, even when they change under traffic."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.proxy.conftest import ProxyUnderTest, TcpServer, read_exactly
from tests.proxy.helpers import external_server, improvement

MakeProxy = Callable[[str], ProxyUnderTest]

# Toxics that must deliver every byte, with settings mild enough to move MBs quickly.
LOSSLESS: dict[str, dict[str, int]] = {
    "latency": {"latency": 5, "jitter": 5},
    "bandwidth": {"rate": 200_000},
    "slow_close": {"delay": 10},
    "slicer": {"average_size": 3000, "size_variation": 2000},
    "limit_data": {"bytes": 1 << 40},
}


def pump(
    sock: socket.socket, payload: bytes, pause_s: float = 0.0, half_close: bool = False
) -> threading.Thread:
    """Send `payload` in 32 KiB writes from a thread, then half-close if asked."""

    def send() -> None:
        view = memoryview(payload)
        for offset in range(0, len(payload), 32768):
            sock.sendall(view[offset : offset + 32768])
            if pause_s:
                time.sleep(pause_s)
        if half_close:
            sock.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def echoed_digest(proxy: ProxyUnderTest, payload: bytes, pause_s: float = 0.0) -> str:
    """The digest of the echo of `payload`, read to its known length.

    The client closes only after the whole echo arrived: Toxiproxy 2.12 drops
    bytes in flight when a client half-closes (see the half-close test below),
    so a half-close here would make this an improvement test, and the chain of
    toxics case a race against upstream's close (the flaky run the issue saw).
    """
    digest = hashlib.sha256()
    with proxy.connect(timeout_s=10) as sock:
        sender = pump(sock, payload, pause_s)
        received = 0
        while received < len(payload):
            data = sock.recv(min(65536, len(payload) - received))
            if not data:
                break
            digest.update(data)
            received += len(data)
        sender.join(10)
    assert received == len(payload)
    return digest.hexdigest()


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
@pytest.mark.parametrize("toxic", sorted(LOSSLESS))
def test_bytes_survive_each_toxic(
    make_proxy: MakeProxy, echo_server: TcpServer, toxic: str, stream: str
) -> None:
    payload = os.urandom(2 << 20)
    proxy = make_proxy(echo_server.address)
    proxy.add_toxic(toxic, stream, **LOSSLESS[toxic])
    assert echoed_digest(proxy, payload) == hashlib.sha256(payload).hexdigest()


def test_bytes_survive_a_chain_of_toxics_in_both_streams(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    payload = os.urandom(2 << 20)
    proxy = make_proxy(echo_server.address)
    for stream in ("upstream", "downstream"):
        for toxic, attributes in LOSSLESS.items():
            proxy.add(
                {
                    "name": f"{toxic}_{stream}",
                    "type": toxic,
                    "stream": stream,
                    "attributes": attributes,
                }
            )
    assert echoed_digest(proxy, payload) == hashlib.sha256(payload).hexdigest()


def test_bytes_survive_the_plain_fast_path(make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    payload = os.urandom(8 << 20)
    proxy = make_proxy(echo_server.address)
    assert echoed_digest(proxy, payload) == hashlib.sha256(payload).hexdigest()


def test_toxics_added_and_removed_under_traffic_keep_every_byte(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    payload = os.urandom(3 << 20)
    proxy = make_proxy(echo_server.address)
    result: dict[str, Any] = {}

    def transfer() -> None:
        result["digest"] = echoed_digest(proxy, payload, pause_s=0.004)

    worker = threading.Thread(target=transfer, daemon=True)
    worker.start()
    steps = 0
    while worker.is_alive() and steps < 40:
        for toxic, attributes in LOSSLESS.items():
            stream = "upstream" if steps % 2 else "downstream"
            name = proxy.add_toxic(toxic, stream, **attributes)
            time.sleep(0.005)
            if toxic in ("latency", "bandwidth"):
                proxy.update_toxic(name, {"toxicity": 0.5})  # redrawn per connection
            proxy.remove_toxic(name)
        steps += 1
    worker.join(30)
    assert steps >= 2, "the transfer ended before toxics could change under it"
    assert result["digest"] == hashlib.sha256(payload).hexdigest()


@improvement(
    "a half-closed connection keeps carrying the answer",
    upstream="a client's EOF closes both directions; the answer (and echoed bytes in flight) "
    "is lost",
    asserted=True,
)
def test_half_close_lets_the_answer_through(make_proxy: MakeProxy, tcp_server: Any) -> None:
    def answer_after_eof(conn: socket.socket) -> None:
        request = bytearray()
        while data := conn.recv(4096):
            request += data
        conn.sendall(b"got " + bytes(request))
        conn.shutdown(socket.SHUT_WR)

    proxy = make_proxy(tcp_server(answer_after_eof).address)
    for with_toxic in (False, True):
        if with_toxic:
            proxy.add_toxic("latency", "downstream", latency=20)
        with proxy.connect() as sock:
            sock.sendall(b"question")
            sock.shutdown(socket.SHUT_WR)
            if external_server():
                assert sock.recv(64) == b""  # measured on 2.12: closed, answer lost
                continue
            assert read_exactly(sock, 12) == b"got question"
            assert sock.recv(10) == b""


@improvement(
    "a half-closed connection keeps carrying the answer",
    upstream="the echo of a 2 MiB upload that ends in a half-close arrives cut short "
    "(measured: 254,976 of 2,097,152 bytes)",
    asserted=True,
)
def test_half_close_after_a_large_upload_keeps_every_echoed_byte(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    payload = os.urandom(2 << 20)
    proxy = make_proxy(echo_server.address)
    proxy.add_toxic("latency", "downstream", latency=5)
    with proxy.connect(timeout_s=10) as sock:
        sender = pump(sock, payload, half_close=True)
        received = 0
        while data := sock.recv(65536):
            received += len(data)
        sender.join(10)
    if external_server():
        assert received < len(payload)
    else:
        assert received == len(payload)


@pytest.mark.parametrize("with_toxic", [False, True], ids=["splice", "toxic"])
def test_a_slow_reader_gets_every_byte(
    make_proxy: MakeProxy, tcp_server: Any, with_toxic: bool
) -> None:
    payload = os.urandom(12 << 20)  # far more than socket buffers and the proxy's queues

    def flood(conn: socket.socket) -> None:
        conn.sendall(payload)
        conn.shutdown(socket.SHUT_WR)
        conn.recv(1)

    proxy = make_proxy(tcp_server(flood).address)
    if with_toxic:
        proxy.add_toxic("latency", "downstream", latency=1)
    digest = hashlib.sha256()
    with proxy.connect(timeout_s=10) as sock:
        time.sleep(0.5)  # the sender runs into backpressure first
        received = 0
        while data := sock.recv(65536):
            digest.update(data)
            received += len(data)
            if received < (1 << 20):
                time.sleep(0.001)  # and reads slowly for a while
    assert received == len(payload)
    assert digest.hexdigest() == hashlib.sha256(payload).hexdigest()
