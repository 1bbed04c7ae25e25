"""The live panel: what it shows, and that it never gets in the way of the run.

The real-terminal runs against a real stack are in
tests/experiments/test_live_view.py; these draw the panel into a recording
console and run the view against a Prometheus port nobody listens on.
"""

from __future__ import annotations

import io
import sys
import threading
import time

from rich.console import Console

from hubchaos.view.live import LiveView, render_panel
from hubchaos.view.readings import Readings
from hubchaos.view.run_watch import RunWatch
from tests.conftest import refused_port
from tests.live.test_readings import INCIDENT_SAMPLE

EXPERIMENT = {"title": "Incident replay: a connection flood against the learning hub"}
FLOOD = {"name": "flood-database-logins", "type": "action", "background": True}
WAIT_PROBE = {"name": "pool-wait-alert-fires", "type": "probe"}


def _text(renderable: object, width: int = 110) -> str:
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def _closed_port_url() -> str:
    return f"http://127.0.0.1:{refused_port()}"


def _watch_in_the_method() -> RunWatch:
    watch = RunWatch()
    watch.started(EXPERIMENT, {})
    watch.start_hypothesis_before(EXPERIMENT)
    watch.start_method(EXPERIMENT)
    watch.start_activity(FLOOD)
    watch.start_activity(WAIT_PROBE)
    return watch


def test_the_panel_shows_phase_activities_and_every_number() -> None:
    text = _text(
        render_panel(
            _watch_in_the_method().snapshot(),
            Readings.from_sample(INCIDENT_SAMPLE),
            0.4,
            "http://127.0.0.1:19090",
            position="1/2",
        )
    )
    assert "hubchaos run 1/2 · Incident replay: a connection flood" in text
    assert "method" in text and "elapsed 00:00" in text
    assert "probe pool-wait-alert-fires" in text  # the foreground activity, "now"
    assert "action flood-database-logins" in text  # background
    assert "40/40 used" in text
    assert "87 requests waiting for a connection" in text
    assert "56/60 connections" in text
    assert "1.82 s" in text and "errors 12.3%" in text and "340 req/s" in text
    assert "FIRING HubDBPoolRequestsWaiting, HubDBPoolSaturated" in text
    assert "pending HubDBConnectionsNearLimit" in text
    assert "metrics 0.4s old" in text and "Ctrl-C stops and rolls back" in text


def test_the_final_panel_says_how_the_run_ended() -> None:
    watch = _watch_in_the_method()
    watch.activity_completed(WAIT_PROBE, {"status": "failed"})
    watch.finish({"status": "completed", "deviated": True})
    text = _text(render_panel(watch.snapshot(), Readings(), None, "http://127.0.0.1:19090"))
    assert "finished (deviated)" in text
    assert "probe pool-wait-alert-fires: failed" in text
    assert "Ctrl-C" not in text  # nothing left to stop
    elapsed = watch.snapshot().elapsed
    time.sleep(0.05)
    assert watch.snapshot().elapsed == elapsed  # the clock stopped with the run


def test_without_prometheus_the_view_runs_and_says_so() -> None:
    url = _closed_port_url()
    out = io.StringIO()
    console = Console(file=out, width=110, force_terminal=True, color_system=None)
    stderr_before = sys.stderr
    threads_before = set(threading.enumerate())
    with LiveView(url, console=console) as view:
        for handler in view.handlers:
            handler.started(EXPERIMENT, {})
            handler.start_method(EXPERIMENT)
            handler.start_activity(WAIT_PROBE)
        time.sleep(1.5)  # a few refreshes and samples, all refused
        assert view.sampler.samples, "the sampler kept sampling"
        text = _text(view.render())
        for handler in view.handlers:
            handler.activity_completed(WAIT_PROBE, {"status": "succeeded"})
            handler.finish({"status": "completed", "deviated": False})
    assert f"Prometheus at {url} not answering" in text
    assert "-/- used" in text and "-/- connections" in text
    drawn = out.getvalue()
    assert "experiment: Incident replay" in drawn  # progress lines went above the panel
    assert "finished (completed)" in drawn  # and the last panel stays on screen
    assert sys.stderr is stderr_before
    leftover = [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert leftover == []


def test_a_drawing_error_shows_as_a_line_instead_of_killing_the_refresh() -> None:
    view = LiveView(_closed_port_url(), console=Console(file=io.StringIO()))
    view.sampler.samples.append({"time": "not a time", "alerts": "not a mapping"})
    text = _text(view.render())
    assert text.startswith("live view: cannot draw the panel:")
    view.sampler.stop()
