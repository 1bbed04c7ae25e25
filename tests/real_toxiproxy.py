"""A real `toxiproxy-server` for the tests that compare hubchaos with upstream.

The binary is found through HUBCHAOS_TOXIPROXY_BIN, else `toxiproxy-server` on
PATH. It is a reference only: never part of the project, and CI runs without
it (the tests that need it are skipped with a line saying how to get one).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from types import TracebackType

import httpx
import pytest

from tests.conftest import free_port

BINARY_VARIABLE = "HUBCHAOS_TOXIPROXY_BIN"
HOW_TO_GET_ONE = (
    f"no real toxiproxy-server: set {BINARY_VARIABLE}=PATH or put one on PATH "
    "(build Shopify/toxiproxy v2.12.0 as README 'Differences from Toxiproxy 2.12' shows)"
)


def real_toxiproxy_binary() -> str | None:
    """The real toxiproxy-server to compare with, or None."""
    configured = os.environ.get(BINARY_VARIABLE)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("toxiproxy-server")


real_toxiproxy_test = pytest.mark.skipif(real_toxiproxy_binary() is None, reason=HOW_TO_GET_ONE)


class RealToxiproxy:
    """A private toxiproxy-server on a free loopback port, stopped on exit."""

    def __init__(self, binary: str | None, *args: str) -> None:
        assert binary, HOW_TO_GET_ONE
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A crash dump is large: a file, not a pipe nobody reads while it runs.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__)
        self.proc = subprocess.Popen(
            [binary, "-host", "127.0.0.1", "-port", str(self.port), *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(10.0)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"toxiproxy-server exited: {self.output()[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/version", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"toxiproxy-server not ready after {timeout_s}s")

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=5.0)

    def wait_exit(self, timeout_s: float) -> int | None:
        """The exit code once the server died by itself, or None if it still runs."""
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def __enter__(self) -> RealToxiproxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


__all__ = ["HOW_TO_GET_ONE", "RealToxiproxy", "real_toxiproxy_binary", "real_toxiproxy_test"]
