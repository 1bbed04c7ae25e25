"""`hubchaos proxy` as a process: --config with toxics, --seed, shutdown, start errors."""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.proxy.conftest import LOOPBACK, ServerProcess, TcpServer, read_exactly

StartProcess = Callable[..., ServerProcess]


def write_config(tmp_path: Path, proxies: object) -> str:
    path = tmp_path / "proxies.json"
    path.write_text(json.dumps(proxies))
    return str(path)


def test_config_creates_proxies_with_their_toxics(
    proxy_process: StartProcess, echo_server: TcpServer, tmp_path: Path
) -> None:
    listen_port = free_port()
    config = write_config(
        tmp_path,
        [
            {
                "name": "hub_db",
                "listen": f"{LOOPBACK}:{listen_port}",
                "upstream": echo_server.address,
                "toxics": [
                    {"type": "latency", "stream": "downstream", "attributes": {"latency": 150}}
                ],
            },
            {
                "name": "spare",
                "listen": f"{LOOPBACK}:0",
                "upstream": "127.0.0.1:9",
                "enabled": False,
            },
        ],
    )
    server = proxy_process("--config", config)
    proxies = httpx.get(f"{server.url}/proxies", timeout=5).json()
    assert proxies["hub_db"]["toxics"] == [
        {
            "name": "latency_downstream",
            "type": "latency",
            "stream": "downstream",
            "toxicity": 1.0,
            "attributes": {"latency": 150, "jitter": 0},
        }
    ]
    assert proxies["spare"]["enabled"] is False
    with socket.create_connection((LOOPBACK, listen_port), timeout=5) as sock:
        start = time.monotonic()
        sock.sendall(b"hi")
        assert read_exactly(sock, 2) == b"hi"
        assert time.monotonic() - start >= 0.14
    code, out, _ = server.stop()
    assert code == 0
    assert "proxy hub_db" in out


def test_bad_config_exits_2_with_one_line(proxy_process: StartProcess, tmp_path: Path) -> None:
    cases = {
        "not json": "is not valid JSON",
        json.dumps(
            [
                {
                    "name": "x",
                    "upstream": "127.0.0.1:9",
                    "toxics": [{"type": "latency", "attributes": {"latancy": 1}}],
                }
            ]
        ): "latancy",
        json.dumps({"name": "x"}): "must be a JSON list",
    }
    for text, expected in cases.items():
        path = tmp_path / "bad.json"
        path.write_text(text)
        server = proxy_process("--config", str(path), wait=False)
        server.proc.wait(timeout=15)
        code, _, err = server.stop()
        assert code == 2, err
        assert expected in err
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err


def test_api_port_in_use_exits_2(proxy_process: StartProcess) -> None:
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ServerProcess("--port", str(port))
        server.proc.wait(timeout=15)
        code, _, err = server.stop()
    assert code == 2
    assert f"{port}" in err and "Traceback" not in err


def toxicity_pattern(url: str, upstream: str, connections: int = 20) -> str:
    """Which connections a toxicity-0.5 toxic hit: '1' cut at once, '0' echoed."""
    with httpx.Client(base_url=url, timeout=5) as api:
        listen = api.post(
            "/proxies", json={"name": "seeded", "listen": f"{LOOPBACK}:0", "upstream": upstream}
        ).json()["listen"]
        api.post(
            "/proxies/seeded/toxics",
            json={"type": "limit_data", "toxicity": 0.5, "attributes": {"bytes": 0}},
        ).raise_for_status()
    port = int(listen.rpartition(":")[2])
    pattern = ""
    for _ in range(connections):
        with socket.create_connection((LOOPBACK, port), timeout=5) as sock:
            sock.sendall(b"?")
            pattern += "0" if sock.recv(1) == b"?" else "1"
    return pattern


def test_seed_makes_toxicity_reproducible(
    proxy_process: StartProcess, echo_server: TcpServer
) -> None:
    patterns = []
    for seed in ("7", "7", "8"):
        server = proxy_process("--seed", seed)
        patterns.append(toxicity_pattern(server.url, echo_server.address))
        server.stop()
    assert patterns[0] == patterns[1], patterns
    assert "0" in patterns[0] and "1" in patterns[0], patterns
    assert patterns[2] != patterns[0], patterns  # odds of a match: 1 in a million


def test_sigterm_stops_cleanly_and_frees_ports(
    proxy_process: StartProcess, echo_server: TcpServer
) -> None:
    server = proxy_process()
    listen_port = free_port()
    httpx.post(
        f"{server.url}/proxies",
        json={"name": "p", "listen": f"{LOOPBACK}:{listen_port}", "upstream": echo_server.address},
        timeout=5,
    ).raise_for_status()
    with socket.create_connection((LOOPBACK, listen_port), timeout=5) as held:
        held.sendall(b"x")
        read_exactly(held, 1)
        start = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=10)  # one signal only: stop() would not send another
        code, out, err = server.stop()
        assert code == 0, err
        assert time.monotonic() - start < 5
        assert "shutting down" in out
        assert held.recv(1) == b""
    for port in (listen_port, server.port):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((LOOPBACK, port))
