"""slicer: chunks are cut into pieces of about average_size bytes, `delay` us apart."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

from tests.proxy.conftest import ProxyUnderTest, TcpServer, read_exactly, read_to_eof
from tests.proxy.helpers import api_error, external_server, improvement
from tests.real_toxiproxy import RealToxiproxy, real_toxiproxy_binary, real_toxiproxy_test

MakeProxy = Callable[[str], ProxyUnderTest]
StartServer = Callable[[Callable[[socket.socket], None]], TcpServer]
PAYLOAD = bytes(range(256)) * 4  # 1024 bytes, sent in one write


def send_payload(conn: socket.socket) -> None:
    conn.sendall(PAYLOAD)
    conn.shutdown(socket.SHUT_WR)
    conn.recv(1)


def report_sizes(conn: socket.socket) -> None:
    # Reads the payload by its known length, not to EOF: a client half-close
    # would close the whole connection on Toxiproxy 2.12 before the report got
    # back (the JSON decode error of the issue: the test, not upstream, was at fault).
    sizes = []
    received = bytearray()
    while len(received) < len(PAYLOAD):
        data = conn.recv(65536)
        if not data:
            break
        sizes.append(len(data))
        received += data
    conn.sendall(json.dumps({"sizes": sizes, "ok": bytes(received) == PAYLOAD}).encode())
    conn.shutdown(socket.SHUT_WR)


def test_downstream_is_sliced_with_delays(make_proxy: MakeProxy, tcp_server: StartServer) -> None:
    proxy = make_proxy(tcp_server(send_payload).address)
    proxy.add_toxic("slicer", "downstream", average_size=100, size_variation=0, delay=20_000)
    reads = []
    with proxy.connect() as sock:
        start = time.monotonic()
        while True:
            data = sock.recv(65536)
            if not data:
                break
            reads.append(data)
        elapsed = time.monotonic() - start
    assert b"".join(reads) == PAYLOAD
    assert len(reads) >= 5, [len(r) for r in reads]  # pieces 20 ms apart arrive apart
    assert elapsed >= 0.18, elapsed  # 11 pieces, 10 gaps of 20 ms


def test_upstream_pieces_stay_within_the_variation(
    make_proxy: MakeProxy, tcp_server: StartServer
) -> None:
    proxy = make_proxy(tcp_server(report_sizes).address)
    proxy.add_toxic("slicer", "upstream", average_size=100, size_variation=40, delay=10_000)
    with proxy.connect() as sock:
        sock.sendall(PAYLOAD)
        report = json.loads(read_to_eof(sock))
    assert report["ok"]
    sizes = report["sizes"]
    assert len(sizes) >= 5, report  # 1024 bytes in pieces of at most 140, 10 ms apart
    # A busy machine may let two pieces meet in the server's socket buffer; most
    # reads must still be single pieces.
    assert sum(size <= 140 for size in sizes) >= 0.7 * len(sizes), report


def test_without_delay_bytes_arrive_whole_and_fast(
    make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    proxy.add_toxic("slicer", "downstream", average_size=7, size_variation=3)
    with proxy.connect() as sock:
        start = time.monotonic()
        sock.sendall(PAYLOAD)
        assert read_exactly(sock, len(PAYLOAD)) == PAYLOAD
        assert time.monotonic() - start < 1.0


@improvement(
    "slicer attributes that cannot slice are refused",
    upstream="size_variation >= average_size is accepted with 200",
    asserted=True,
)
def test_variation_must_be_below_the_average(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("127.0.0.1:9")  # nothing flows: the accepted toxic is never run
    response = proxy.api.post(
        f"/proxies/{proxy.name}/toxics",
        json={"type": "slicer", "attributes": {"average_size": 10, "size_variation": 10}},
    )
    if external_server():
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 400
    assert "size_variation" in api_error(response)


@improvement(
    "a slicer with its defaults (average_size 0) is refused with 400",
    upstream="accepted with 200; the first bytes through it crash the whole server "
    "(goroutine stack overflow), proved by test_default_slicer_crashes_a_real_toxiproxy",
    asserted=True,
)
def test_default_slicer_is_refused_naming_average_size(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("127.0.0.1:9")  # nothing flows: the shared server must not crash
    response = proxy.api.post(f"/proxies/{proxy.name}/toxics", json={"type": "slicer"})
    if external_server():
        assert response.status_code == 200, response.text
        assert response.json()["attributes"]["average_size"] == 0
        return
    assert response.status_code == 400
    assert "average_size" in api_error(response)


@real_toxiproxy_test
def test_default_slicer_crashes_a_real_toxiproxy(echo_server: TcpServer) -> None:
    # The reference for the row above, on a private server (it dies): the same
    # request the embedded server refuses is accepted, and one write kills it.
    with RealToxiproxy(real_toxiproxy_binary()) as server, server.api() as api:
        created = api.post(
            "/proxies", json={"name": "s", "listen": "127.0.0.1:0", "upstream": echo_server.address}
        )
        assert created.status_code == 201, created.text
        port = int(created.json()["listen"].rpartition(":")[2])
        added = api.post("/proxies/s/toxics", json={"type": "slicer", "stream": "upstream"})
        assert added.status_code == 200, added.text
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"one write")
            code = server.wait_exit(timeout_s=60)
        assert code != 0
        assert "stack overflow" in server.output()
