"""Helpers for the monitoring tests: real binaries, real processes, loopback only."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from hubchaos.stack.monitoring import webhook_receiver_program
from tests.conftest import free_port

T = TypeVar("T")

DEBIAN_PACKAGE = {
    "promtool": "prometheus",
    "prometheus": "prometheus",
    "amtool": "prometheus-alertmanager",
    "prometheus-alertmanager": "prometheus-alertmanager",
}


def require_binary(name: str) -> str:
    """Path of a monitoring binary; a missing one fails the test (CI installs them)."""
    path = shutil.which(name)
    if path is None:
        package = DEBIAN_PACKAGE.get(name, name)
        pytest.fail(
            f"'{name}' not found on PATH: install it (Debian: apt-get install {package}, "
            "or run ./scripts/setup)",
            pytrace=False,
        )
    return path


def log_tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return f"({path} missing)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until(
    check: Callable[[], T | None], *, timeout_s: float, interval_s: float = 0.2, what: str
) -> T:
    """Poll `check` until it returns a truthy value; fail the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}", pytrace=False)
        time.sleep(interval_s)


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


@dataclass
class Service:
    """A real process we started, its log, and how to reach it."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_file: Path

    def wait_ready(self, path: str, timeout_s: float = 20.0) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                code = self.process.returncode
                tail = log_tail(self.log_file)
                pytest.fail(f"{self.name} exited with {code}:\n{tail}", pytrace=False)
            return http_ok(self.url + path)

        wait_until(ready, timeout_s=timeout_s, what=f"{self.name} at {self.url}{path}")

    def stop(self, timeout_s: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout_s)
        return self.process.returncode


def start_service(name: str, argv: list[str], url: str, log_file: Path) -> Service:
    with log_file.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    return Service(name=name, url=url, process=process, log_file=log_file)


def start_receiver(tmp_path: Path) -> tuple[Service, Path]:
    port = free_port()
    out = tmp_path / "notifications.jsonl"
    service = start_service(
        "webhook receiver",
        [
            sys.executable,
            str(webhook_receiver_program()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--out",
            str(out),
        ],
        f"http://127.0.0.1:{port}",
        tmp_path / "receiver.log",
    )
    return service, out


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[Service, Path]]:
    """The webhook receiver as a subprocess on a free port, with its output file."""
    service, out = start_receiver(tmp_path)
    try:
        service.wait_ready("/healthz", timeout_s=15.0)
        yield service, out
    finally:
        service.stop()
