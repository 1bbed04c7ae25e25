"""`hubchaos cluster down` leaves no process, shim, mount, network namespace, bridge or
iptables rule behind. It runs after every other test of the session's cluster
(`pytest_collection_modifyitems` in conftest.py puts it last)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubchaos.cluster.node import cluster_down, leftovers
from hubchaos.cluster.supervise import running_pid
from tests.kubernetes.conftest import LocalCluster, host_iptables

pytestmark = [pytest.mark.kubernetes, pytest.mark.slow]


def test_down_leaves_nothing_behind(local_cluster: LocalCluster) -> None:
    if local_cluster.shared:
        pytest.skip("the cluster is shared (HUBCHAOS_TEST_CLUSTER_STATE): it is not ours to stop")
    layout = local_cluster.layout
    cluster_down(layout, lambda line: None)
    assert leftovers(layout, local_cluster.netns_before) == []
    assert running_pid("kubelet", layout.run) is None
    socket_path = str(layout.containerd_socket)
    for proc in (p for p in Path("/proc").iterdir() if p.name.isdigit()):
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        assert str(layout.state) not in cmdline and socket_path not in cmdline, cmdline
    assert host_iptables() == local_cluster.iptables_before
