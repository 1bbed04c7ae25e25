"""hubchaos.probes.rollout without a cluster: what it says when it cannot look.

On the local cluster it is exercised by tests/kubernetes/test_toxic_experiments.py
(it holds after db-latency's restart, and fails naming the Deployment while pods
are still being replaced or the Deployment does not exist).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chaoslib.exceptions import ActivityFailed

from hubchaos.probes.rollout import wait_for_fresh_replicas
from tests.conftest import refused_port
from tests.metrics_server import MetricsServer


def _kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n"
        f"clusters: [{{name: gone, cluster: {{server: '{server}'}}}}]\n"
        "users: [{name: nobody, user: {token: none}}]\n"
        "contexts: [{name: gone, context: {cluster: gone, user: nobody}}]\n"
    )
    return path


def test_an_unreachable_cluster_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{refused_port()}")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_CONTEXT", raising=False)
    with pytest.raises(ActivityFailed, match="deployment hub/learninghub: the cluster is unre"):
        wait_for_fresh_replicas("learninghub", "hub", 5)


def test_the_cluster_is_the_one_kubeconfig_names_when_the_probe_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kubernetes package fixes its default kubeconfig path when first imported;
    # a probe run later in the same process must still follow KUBECONFIG.
    monkeypatch.delenv("KUBERNETES_CONTEXT", raising=False)
    answering = MetricsServer(lambda: b"not found")  # 404 for every API path
    try:
        first = _kubeconfig(tmp_path / "first", f"http://{answering.address}")
        monkeypatch.setenv("KUBECONFIG", str(first))
        with pytest.raises(ActivityFailed, match="the cluster answered 404"):
            wait_for_fresh_replicas("learninghub", "hub", 5)
    finally:
        answering.close()
    second = _kubeconfig(tmp_path / "second", f"http://127.0.0.1:{refused_port()}")
    monkeypatch.setenv("KUBECONFIG", str(second))
    with pytest.raises(ActivityFailed, match="the cluster is unreachable"):
        wait_for_fresh_replicas("learninghub", "hub", 5)


def test_a_wait_must_be_positive() -> None:
    with pytest.raises(ActivityFailed, match="timeout_seconds must be greater than 0"):
        wait_for_fresh_replicas("learninghub", "hub", 0)


def test_chaoslib_discovers_and_validates_the_probe() -> None:
    from chaoslib.discovery.discover import discover_activities
    from chaoslib.provider.python import validate_python_activity

    from hubchaos.discovery import PROBE_MODULES

    assert "hubchaos.probes.rollout" in PROBE_MODULES
    discovered = discover_activities("hubchaos.probes.rollout", "probe")
    assert [a["name"] for a in discovered] == ["wait_for_fresh_replicas"]
    validate_python_activity(
        {
            "type": "probe",
            "name": "fresh-pods",
            "provider": {
                "type": "python",
                "module": "hubchaos.probes.rollout",
                "func": "wait_for_fresh_replicas",
                "arguments": {"name": "learninghub", "ns": "hubchaos", "timeout_seconds": 60},
            },
        }
    )
