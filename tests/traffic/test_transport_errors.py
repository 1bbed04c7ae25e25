"""Flood hygiene: a spike at a dead replica backs off instead of spinning, and its
transport errors are counted and shown in the live panel, the journal and the report."""

from __future__ import annotations

import asyncio
import io
import json
import random
import re
import stat
import time
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from hubchaos.actions import flood
from hubchaos.report.writer import write_report
from hubchaos.runner import run_experiment_file
from hubchaos.traffic import transport_errors
from hubchaos.traffic.backoff import FIRST_DELAY_S, MAX_DELAY_S, Backoff
from hubchaos.traffic.transport_errors import TransportErrorCount
from hubchaos.view.live import render_panel
from hubchaos.view.progress import ProgressLines, StatusTicker
from hubchaos.view.readings import Readings
from hubchaos.view.run_watch import RunWatch
from tests.conftest import refused_port
from tests.metrics_server import MetricsServer


def test_a_spike_at_a_refusing_port_backs_off_and_counts_every_error() -> None:
    before = transport_errors.snapshot()
    url = f"http://127.0.0.1:{refused_port()}"
    result = flood.http_spike(url=url, concurrency=20, duration_seconds=2.0, timeout=1.0)
    refused = result["errors_by_kind"].get("connection_refused", 0)
    assert refused == result["requests"] > 0, result
    assert result["error_rate"] == 1.0
    # Without backoff this loop made thousands of attempts a second (8,840/s measured);
    # with it each of the 20 workers tries about a dozen times in 2 s.
    assert result["requests_per_second"] < 200, result
    assert transport_errors.snapshot().minus(before) == {"connection_refused": refused}


def test_a_healthy_server_gets_full_speed_and_no_errors_are_counted() -> None:
    server = MetricsServer(lambda: b"up 1\n")
    try:
        before = transport_errors.snapshot()
        result = flood.http_spike(
            url=f"http://{server.address}/metrics", concurrency=4, duration_seconds=1.0
        )
    finally:
        server.close()
    assert result["status_counts"].get("200", 0) == result["requests"] > 50, result
    assert result["errors_by_kind"] == {}
    assert transport_errors.snapshot().minus(before) == {}


def test_backoff_doubles_to_a_ceiling_and_a_response_resets_it() -> None:
    backoff = Backoff(random.Random(1))

    async def fail(times: int) -> float:
        started = time.monotonic()
        for _ in range(times):
            await backoff.failed()
        return time.monotonic() - started

    waited = asyncio.run(fail(3))
    assert backoff.delay == pytest.approx(FIRST_DELAY_S * 4)
    assert FIRST_DELAY_S * 7 * 0.5 <= waited < 1.0
    backoff.succeeded()
    assert backoff.delay == 0.0
    asyncio.run(fail(1))
    assert backoff.delay == FIRST_DELAY_S
    backoff._delay = MAX_DELAY_S  # deep into a long outage
    asyncio.run(fail(1))
    assert backoff.delay == MAX_DELAY_S


def _text(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=120, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_the_live_panel_shows_the_load_errors_the_app_cannot_see() -> None:
    watch = RunWatch("spike at a dead replica")
    errors = TransportErrorCount({"connection_refused": 8840, "connect_timeout": 3}, 52.4)
    text = _text(
        render_panel(
            watch.snapshot(), Readings(error_rate=0.0, requests_per_second=10.0), 0.5,
            "http://127.0.0.1:19090", client_errors=errors,
        )
    )  # fmt: skip
    assert "errors 0.0%" in text  # the app's own view: nothing reached it
    assert "load errors  8843 (connection_refused 8840, connect_timeout 3)   52.4/s" in text
    quiet = _text(
        render_panel(watch.snapshot(), Readings(), None, "http://127.0.0.1:19090",
                     client_errors=TransportErrorCount())
    )  # fmt: skip
    assert "load errors  none" in quiet


def test_the_rate_counts_recent_whole_seconds_only() -> None:
    before = transport_errors.snapshot()
    transport_errors.record("connection_reset", 7)
    after = transport_errors.snapshot()
    assert after.minus(before) == {"connection_reset": 7}
    assert after.total == before.total + 7


def test_the_journal_and_the_report_carry_the_load_errors(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{refused_port()}"
    experiment = {
        "version": "1.0.0",
        "title": "A spike at a dead replica",
        "description": "The traffic spike meets refused connections only.",
        "configuration": {"hubchaos_db_dsn": "postgresql://hubchaos:s3cr3t@127.0.0.1:1/x"},
        "method": [
            {
                "type": "action",
                "name": "spike",
                "provider": {
                    "type": "python",
                    "module": "hubchaos.actions.flood",
                    "func": "http_spike",
                    "arguments": {"url": url, "concurrency": 4, "duration_seconds": 1.0},
                },
            }
        ],
    }
    path = tmp_path / "dead-replica.yaml"
    path.write_text(yaml.safe_dump(experiment))
    run = run_experiment_file(str(path), tmp_path / "out")

    lost = run.journal["hubchaos_transport_errors"]
    assert lost["total"] == lost["by_kind"]["connection_refused"] > 0
    on_disk = run.journal_path.read_text()
    assert stat.S_IMODE(run.journal_path.stat().st_mode) == 0o600
    assert "s3cr3t" not in on_disk and "postgresql://hubchaos:***@" in on_disk
    assert json.loads(on_disk)["hubchaos_transport_errors"] == lost

    written = write_report(run.journal, tmp_path / "report", stem="dead-replica")
    markdown = next(p for p in written if p.suffix == ".md").read_text()
    expected = (
        f"transport errors of the load**: {lost['total']} (connection_refused {lost['total']})"
    )
    assert expected in markdown.replace("\\_", "_")  # Markdown escapes the underscore


def test_plain_lines_report_the_load_errors_as_they_happen() -> None:
    out = io.StringIO()
    ticker = StatusTicker(ProgressLines(out), f"http://127.0.0.1:{refused_port()}", interval=0.2)
    ticker.start()
    try:
        result = flood.http_spike(
            url=f"http://127.0.0.1:{refused_port()}", concurrency=4, duration_seconds=1.0
        )
        time.sleep(0.6)  # the next tick reports the last errors
    finally:
        ticker.stop()
    counts = re.findall(
        r"load: (\d+) transport errors since the last line \(connection_refused (\d+)\)",
        out.getvalue(),
    )
    assert counts, out.getvalue()
    assert sum(int(total) for total, _ in counts) == result["requests"]
