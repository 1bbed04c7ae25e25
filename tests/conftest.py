"""Fixtures shared by every test package: real services on loopback only."""

from __future__ import annotations

import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubchaos.stack.local.postgres import PostgresCluster


def pytest_configure() -> None:
    # A shell without job control starts background commands with SIGINT ignored,
    # and every child inherits that: the Ctrl-C tests need what a terminal gives.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # Under nohup SIGHUP is ignored, and `hubchaos run` rightly keeps it so; the
    # hang-up tests need the default a terminal's session gives.
    if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_REFUSING: list[socket.socket] = []


def refused_port() -> int:
    """A loopback port that refuses every connection for the rest of the session.

    The socket stays bound but never listens: a port merely freed can be handed
    to the next server that binds port 0 (a port-forward, a test's own server),
    and a "dead" address that suddenly answers flips the test.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _REFUSING.append(sock)
    port: int = sock.getsockname()[1]
    return port


def pytest_sessionfinish() -> None:
    while _REFUSING:
        _REFUSING.pop().close()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A private PostgreSQL 15 cluster for the whole test session."""
    base = Path(tempfile.mkdtemp(prefix="hubchaos-pg-"))
    cluster = PostgresCluster(base_dir=base, port=free_port(), max_connections=60)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
