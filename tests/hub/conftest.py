"""learninghub under test: a migrated database and the app as a real uvicorn subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hubchaos.stack.local.postgres import PostgresCluster
from tests.conftest import free_port

HUB_DB = "learninghub_hubtests"


@dataclass(frozen=True)
class HubDatabase:
    cluster: PostgresCluster
    admin_dsn: str  # superuser, for observation
    app_dsn: str  # the app role, as the app connects

    def app_dsn_via(self, port: int) -> str:
        return self.app_dsn.replace(f"port={self.cluster.port}", f"port={port}")

    def connections_of(self, application_name: str) -> int:
        with psycopg.connect(self.admin_dsn) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                (application_name,),
            ).fetchone()
            assert row is not None
            return int(row[0])


def run_migrate(dsn: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "learninghub", "migrate", "--dsn", dsn, *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
def hub_db(postgres_cluster: PostgresCluster) -> HubDatabase:
    admin_dsn = postgres_cluster.dsn(dbname=HUB_DB, application_name="hub-tests")
    result = run_migrate(admin_dsn)
    assert result.returncode == 0, result.stderr
    app_dsn = (
        f"host=127.0.0.1 port={postgres_cluster.port} dbname={HUB_DB} "
        "user=learninghub password=learninghub"
    )
    return HubDatabase(postgres_cluster, admin_dsn, app_dsn)


Metrics = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_metrics(text: str) -> Metrics:
    samples: Metrics = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


@dataclass
class HubApp:
    """One `python3 -m learninghub serve` process on a free loopback port."""

    url: str
    application_name: str
    pool_name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    def get(self, path: str, timeout: float = 10.0) -> httpx.Response:
        return httpx.get(self.url + path, timeout=timeout)

    def post(self, path: str, timeout: float = 10.0, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + path, timeout=timeout, **kwargs)

    def metrics(self) -> Metrics:
        response = self.get("/metrics", timeout=5.0)
        assert response.status_code == 200
        return parse_metrics(response.text)

    def metric(self, name: str, metrics: Metrics | None = None, **labels: str) -> float:
        key = (name, frozenset({"pool": self.pool_name, **labels}.items()))
        return (self.metrics() if metrics is None else metrics).get(key, float("nan"))

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"{what} not reached within {timeout} s; log tail:\n{self.log_tail()}")

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line]

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


StartApp = Callable[..., HubApp]


class AppLauncher:
    """Starts apps with LEARNINGHUB_* settings given as keyword arguments; stops them all."""

    def __init__(self, hub_db: HubDatabase, log_dir: Path) -> None:
        self.hub_db = hub_db
        self.log_dir = log_dir
        self.started: list[HubApp] = []

    def start(self, wait_ready: bool = True, shared_port: int = 0, **settings: object) -> HubApp:
        port = free_port()
        name = f"hubtest-{port}"
        env = {
            **os.environ,
            "LEARNINGHUB_DSN": self.hub_db.app_dsn,
            "LEARNINGHUB_POOL_NAME": name,
            "LEARNINGHUB_APPLICATION_NAME": f"learninghub-{name}",
        }
        env.update({f"LEARNINGHUB_{key.upper()}": str(value) for key, value in settings.items()})
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("wb")
        command = ["-m", "learninghub", "serve", "--host", "127.0.0.1", "--port", str(port)]
        if shared_port:
            command += ["--shared-port", str(shared_port)]
        process = subprocess.Popen([sys.executable, *command], stdout=log, stderr=log, env=env)
        app = HubApp(
            url=f"http://127.0.0.1:{port}",
            application_name=env["LEARNINGHUB_APPLICATION_NAME"],
            pool_name=name,
            process=process,
            log_path=log_path,
            _log=log,
        )
        self.started.append(app)
        _wait_alive(app)
        if wait_ready:
            app.wait_for(lambda: app.get("/readyz").status_code == 200, "/readyz 200")
            warm = float(str(settings.get("pool_min", 0)))
            app.wait_for(
                lambda: app.metric("db_client_connection_count", state="idle") >= warm,
                f"{warm:g} idle connections",
            )
        return app

    def stop_all(self) -> None:
        for app in self.started:
            app.stop()


@pytest.fixture
def start_app(hub_db: HubDatabase, tmp_path: Path) -> Iterator[StartApp]:
    launcher = AppLauncher(hub_db, tmp_path)
    yield launcher.start
    launcher.stop_all()


def _wait_alive(app: HubApp, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise AssertionError(f"app exited with {app.process.returncode}:\n{app.log_tail()}")
        try:
            if app.get("/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"app not alive within {timeout} s:\n{app.log_tail()}")
