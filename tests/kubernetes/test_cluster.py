"""`hubchaos cluster up | status | down` on the real local cluster.

A pod runs on the bridge network and is reached only through 127.0.0.1 (a kubectl
port-forward through the kubelet on loopback). test_teardown.py, which sorts last,
checks what `down` leaves behind.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request

import pytest

from hubchaos.cluster.images import load_hub_images
from hubchaos.cluster.node import cluster_status
from hubchaos.cluster.runtime import POD_SUBNET
from tests.kubernetes.conftest import LocalCluster

pytestmark = [pytest.mark.kubernetes, pytest.mark.slow]

RUNTIME_IMAGE = "hubchaos/runtime:offline"
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
    "spec": {
        "containers": [{
            "name": "web",
            "image": RUNTIME_IMAGE,
            "imagePullPolicy": "Never",
            "command": ["python3", "-m", "http.server", "8080", "--bind", "0.0.0.0"],
            "ports": [{"containerPort": 8080}],
            "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1},
        }],
        "terminationGracePeriodSeconds": 1,
    },
}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_every_part_runs_and_the_node_is_ready(local_cluster: LocalCluster) -> None:
    report = cluster_status(local_cluster.layout)
    assert report["node localhost"] == "Ready", report
    assert report["apiserver"] == "ready"
    assert all(report[part].startswith("running") for part in ("etcd", "kubelet")), report
    assert local_cluster.start_s < 120, f"cold start took {local_cluster.start_s:.1f} s"
    print(f"cluster cold start: {local_cluster.start_s:.1f} s")


def test_a_pod_runs_on_the_bridge_and_is_reached_through_loopback(
    local_cluster: LocalCluster,
) -> None:
    load_hub_images(local_cluster.layout, lambda line: None, images=(RUNTIME_IMAGE,))
    applied = subprocess.run(
        ["kubectl", f"--kubeconfig={local_cluster.kubeconfig}", "apply", "-f", "-"],
        input=json.dumps(POD), capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert applied.returncode == 0, applied.stderr
    started = time.monotonic()
    ready = local_cluster.kubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=90s",
                                  timeout=100)  # fmt: skip
    assert ready.returncode == 0, ready.stderr + local_cluster.kubectl("describe", "pod/web").stdout
    print(f"pod ready in {time.monotonic() - started:.1f} s")
    pod_ip = local_cluster.kubectl("get", "pod/web", "-o", "jsonpath={.status.podIP}").stdout
    assert pod_ip.startswith(POD_SUBNET.rsplit(".", 2)[0] + "."), pod_ip  # on the private /24

    port = _free_port()
    forward = subprocess.Popen(
        ["kubectl", f"--kubeconfig={local_cluster.kubeconfig}", "port-forward",
         "--address", "127.0.0.1", "pod/web", f"{port}:8080"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        body = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not body:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as response:
                    assert response.status == 200
                    body = response.read()
            except OSError:
                time.sleep(0.3)
        assert b"Directory listing" in body
    finally:
        forward.terminate()
        forward.wait(timeout=10)
    logs = local_cluster.kubectl("logs", "pod/web")
    assert '"GET / HTTP/1.1" 200' in logs.stderr + logs.stdout  # kubelet logs over loopback
