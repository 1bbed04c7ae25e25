"""The real local cluster (`hubchaos cluster up`) for the tests marked `kubernetes`.

The cluster state lives in .hubchaos/cluster-tests of the checkout (its containerd
keeps the imported images between sessions; etcd and the pods start empty each
time). Without the binaries, root or the Debian packages these tests are skipped
with the reason, unless HUBCHAOS_REQUIRE_KUBERNETES=1: then they fail loudly.

HUBCHAOS_TEST_CLUSTER_STATE=DIR points the tests at a cluster already running
(`hubchaos cluster up --state-dir DIR`), for engineers who share one machine and so
one node: the session neither starts nor stops it, every test deploys into a
namespace of its own, and the teardown test (which stops the session's cluster)
skips. CI never sets it.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubchaos.cluster.build import binaries_present
from hubchaos.cluster.errors import ClusterError
from hubchaos.cluster.layout import ClusterLayout, cache_dir
from hubchaos.cluster.node import cluster_down, cluster_up
from hubchaos.cluster.teardown import network_namespaces

REPO = Path(__file__).resolve().parents[2]
REQUIRE_ENV = "HUBCHAOS_REQUIRE_KUBERNETES"
SHARED_ENV = "HUBCHAOS_TEST_CLUSTER_STATE"
STATE_DIR = REPO / ".hubchaos" / "cluster-tests"


def unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"KUBERNETES TESTS CANNOT RUN: {reason} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(f"{reason}: `hubchaos cluster up` (as root) builds and starts the local cluster")


# What the cluster's rules can be recognised by (other engineers' Docker networks come
# and go on a shared machine, so the whole rule set is not comparable).
CLUSTER_MARKS = ("KUBE-", "hubchaos", "10.213.0.", "10.0.0.")


def host_iptables() -> list[str]:
    """The host's iptables rules and chains that the cluster could have made, no counters."""
    done = subprocess.run(["iptables-save"], capture_output=True, text=True, check=False)
    table, found = "", []
    for line in done.stdout.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(("-A ", ":")) and any(mark in line for mark in CLUSTER_MARKS):
            found.append(f"{table} {line.split(' [', 1)[0]}")
    return sorted(found)


@dataclass
class LocalCluster:
    layout: ClusterLayout
    kubeconfig: Path
    start_s: float
    netns_before: set[str]
    iptables_before: list[str]
    shared: bool = False  # started outside the session (HUBCHAOS_TEST_CLUSTER_STATE)

    def kubectl(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["kubectl", f"--kubeconfig={self.kubeconfig}", *args],
            capture_output=True, text=True, check=False, timeout=timeout,
        )  # fmt: skip


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[LocalCluster]:
    if os.geteuid() != 0:
        unavailable("the local cluster needs root (containerd, kubelet)")
    shared_state = os.environ.get(SHARED_ENV)
    if shared_state:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{SHARED_ENV} and {REQUIRE_ENV}=1 exclude each other", pytrace=False)
        shared = ClusterLayout(state=Path(shared_state), cache=cache_dir())
        if not shared.kubeconfig.is_file():
            pytest.fail(f"{SHARED_ENV}={shared_state}: no running cluster there", pytrace=False)
        yield LocalCluster(shared, shared.kubeconfig, 0.0, set(), [], shared=True)
        return
    layout = ClusterLayout(state=STATE_DIR, cache=cache_dir())
    if not binaries_present(layout):  # the one-time build takes far longer than a test may
        unavailable(
            "the Kubernetes 1.20 binaries are not built yet (`hubchaos cluster up` builds and "
            "caches them once, 15-30 min on 2 cores; .ci/run does it before the tests)"
        )
    netns_before, iptables_before = network_namespaces(), host_iptables()
    started = time.monotonic()
    try:
        kubeconfig = cluster_up(layout, lambda line: None, hub_images=False)
    except ClusterError as exc:
        cluster_down(layout, lambda line: None)
        unavailable(f"the local cluster could not start: {exc}")
    try:
        yield LocalCluster(
            layout, kubeconfig, time.monotonic() - started, netns_before, iptables_before
        )
    finally:
        cluster_down(layout, lambda line: None)


def namespace_for(cluster: LocalCluster, key: str) -> str:
    """A namespace of its own per `key`: a test never meets the previous one's namespace
    still terminating, nor another engineer's on a shared cluster."""
    import hashlib

    digest = hashlib.sha256(f"{os.getpid()}:{key}".encode()).hexdigest()[:8]
    return f"hubchaos-{digest}"


@pytest.fixture
def hub_namespace(local_cluster: LocalCluster, request: pytest.FixtureRequest) -> str:
    """The namespace a test deploys into (`namespace_for` its node id)."""
    return namespace_for(local_cluster, request.node.nodeid)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The teardown test stops the session's cluster: it runs after every other test,
    whatever the other files are called (a stable sort keeps their order)."""
    items.sort(key=lambda item: item.path.name == "test_teardown.py")
