"""The cluster flood's Job, without a cluster: the manifest (bounded, labelled, no retry),
the pod's command run here exactly as a pod runs it (against a real HTTP server on
loopback), the totals read back from pod logs, and the bounds refused before any
cluster is contacted."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from chaoslib.exceptions import ActivityFailed

from hubchaos.actions.cluster_flood import cluster_http_spike
from hubchaos.blast_radius.bounds import bound_problem
from hubchaos.ledger.undo import UNDOERS, UndoFailed, undo, undo_delete_job
from hubchaos.traffic.cluster_job import (
    FLOOD_LABEL,
    RUN_LABEL,
    START_MARGIN_S,
    FloodJob,
    pod_result,
    summarise,
)
from hubchaos.traffic.pod_flood import RESULT_MARK, SLACK_S, pod_arguments

ACTION = "hubchaos.actions.cluster_flood.cluster_http_spike"


def _job(service: str = "toxiproxy", port: int = 18000, seconds: float = 20.0) -> FloodJob:
    arguments = pod_arguments(service, port, None, 4, seconds, 1000, 5.0, 1000.0)
    return FloodJob("hubchaos-flood-1-abc123", "hubchaos-x", "hubchaos/runtime:offline",
                    "1-99", 3, arguments)  # fmt: skip


def test_the_job_runs_n_pods_once_and_stops_by_itself() -> None:
    manifest = _job().manifest()
    spec = manifest["spec"]
    assert manifest["apiVersion"] == "batch/v1" and manifest["kind"] == "Job"
    assert manifest["metadata"]["namespace"] == "hubchaos-x"
    assert (spec["parallelism"], spec["completions"], spec["backoffLimit"]) == (3, 3, 0)
    # duration 20 + request timeout 5 + the pod's slack + the start-up margin
    assert spec["activeDeadlineSeconds"] == int(20 + 5 + SLACK_S + START_MARGIN_S)
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    assert container["image"] == "hubchaos/runtime:offline"
    assert container["resources"]["limits"]


def test_job_and_pods_carry_the_run_and_the_flood() -> None:
    job = _job()
    manifest = job.manifest()
    pod_labels = manifest["spec"]["template"]["metadata"]["labels"]
    for labels in (manifest["metadata"]["labels"], pod_labels):
        assert labels[RUN_LABEL] == "1-99"
        assert labels[FLOOD_LABEL] == job.name
    assert job.selector == f"{FLOOD_LABEL}={job.name}"


def test_the_pods_target_a_service_of_their_own_namespace() -> None:
    command = _job().manifest()["spec"]["template"]["spec"]["containers"][0]["command"]
    arguments = json.loads(command[-1])
    assert arguments["url"] == "http://toxiproxy:18000"
    assert arguments["service"] == "toxiproxy"


class _Hub(BaseHTTPRequestHandler):
    """Answers like an exhausted pool on the chat route, fine elsewhere."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        busy = self.path.startswith("/rooms/")
        body = b"busy" if busy else b"ok"
        self.send_response(503 if busy else 200)
        if busy:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hub_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_the_pod_command_floods_and_prints_its_result(hub_port: int) -> None:
    """The container's command, run here as the kubelet would run it (python3 -c SOURCE ARGS)."""
    arguments = pod_arguments("localhost", hub_port, None, 4, 10.0, 200, 5.0, 1000.0)
    job = FloodJob("hubchaos-flood-1-abc123", "ns", "image", "1-99", 1, arguments)
    command = job.manifest()["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:2] == ["python3", "-c"]
    done = subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = pod_result(done.stdout)
    assert result is not None, done.stdout
    assert result["requests"] == 200  # the request budget bounds it, well before 10 s
    assert result["status_counts"]["200"] + result["status_counts"]["503"] == 200
    assert result["status_counts"]["503"] > 0


def test_a_log_without_a_result_line_is_no_result() -> None:
    assert pod_result("Traceback (most recent call last):\n  ...\n") is None
    assert pod_result(f"{RESULT_MARK} not json\n") is None
    assert pod_result(f"noise\n{RESULT_MARK} {json.dumps({'requests': 3})}\n") == {"requests": 3}


def test_totals_add_the_pods_up() -> None:
    first = {"requests": 10, "responses": 9, "requests_per_second": 5.0,
             "status_counts": {"200": 7, "503": 2}, "errors_by_kind": {"timeout": 1},
             "error_rate": 0.3, "latency_ms": {"p99": 12.0}}  # fmt: skip
    second = {"requests": 5, "responses": 5, "requests_per_second": 2.5,
              "status_counts": {"200": 5}, "errors_by_kind": {}, "error_rate": 0.0,
              "latency_ms": {"p99": 3.0}}  # fmt: skip
    totals = summarise([
        {"pod": "a", "phase": "Succeeded", "result": first},
        {"pod": "b", "phase": "Succeeded", "result": second},
        {"pod": "c", "phase": "Failed", "result": None},
    ])  # fmt: skip
    assert totals["pods_reported"] == 2
    assert totals["requests"] == 15
    assert totals["status_counts"] == {"200": 12, "503": 2}
    assert totals["errors_by_kind"] == {"timeout": 1}
    assert totals["error_rate"] == round(3 / 15, 4)  # 2 server errors + 1 transport error
    assert totals["requests_per_second"] == 7.5
    assert [p["pod"] for p in totals["per_pod"]] == ["a", "b", "c"]
    assert totals["per_pod"][2]["requests"] is None


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("parallelism", 21, "argument parallelism must be at least 1 and at most 20, got 21"),
        ("parallelism", 0, "argument parallelism must be at least 1 and at most 20, got 0"),
        ("concurrency", 501, "argument concurrency must be at least 1 and at most 500, got 501"),
        ("duration_seconds", 601, "argument duration_seconds must be between 0 and 600, got 601"),
    ],
)
def test_oversize_floods_are_refused_before_any_cluster(
    argument: str, value: int, message: str
) -> None:
    assert bound_problem(ACTION, {argument: value}) == message
    with pytest.raises(ActivityFailed) as refused:
        cluster_http_spike(**{argument: value})  # type: ignore[arg-type]
    assert str(refused.value) == message


def test_a_service_of_another_namespace_or_host_is_refused() -> None:
    for service in ("toxiproxy.other", "example.com", "10.0.0.1", ""):
        with pytest.raises(ActivityFailed, match="argument service must be the name"):
            cluster_http_spike(service=service)


def test_the_ledger_undo_of_a_job_names_it_when_the_cluster_is_out_of_reach(
    tmp_path: Path,
) -> None:
    """The dead man's switch retries an entry whose undo fails: the failure says which Job."""
    job = _job()
    action = undo_delete_job(str(tmp_path / "missing"), "ctx", job.namespace, job.name,
                             job.selector)  # fmt: skip
    assert action["action"] in UNDOERS
    expected = rf"^Job {job.name} in namespace hubchaos-x: kubeconfig \S+/missing not found"
    with pytest.raises(UndoFailed, match=expected):
        undo(action)
