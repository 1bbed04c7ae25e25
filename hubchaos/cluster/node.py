"""`hubchaos cluster up | status | down`: the local single-node cluster's life cycle."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from hubchaos.cluster import teardown
from hubchaos.cluster.build import BUILD_PACKAGES, ensure_binaries
from hubchaos.cluster.components import Ports, argv_of, write_kubelet_config
from hubchaos.cluster.errors import ClusterError
from hubchaos.cluster.images import load_hub_images, load_pause_image
from hubchaos.cluster.layout import ClusterLayout
from hubchaos.cluster.pki import ensure_pki, write_kubeconfig
from hubchaos.cluster.runtime import cni_bin_dir, write_cni_config, write_containerd_config
from hubchaos.cluster.supervise import running_pid, start_process, stop_process
from hubchaos.polling import poll_until

__all__ = ["PARTS", "RUNTIME_PACKAGES", "cluster_down", "cluster_status", "cluster_up"]

# Start order; `down` stops them in reverse.
PARTS = (
    "etcd",
    "containerd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
    "dns",
    "kubelet",
)
RUNTIME_PACKAGES = (
    "etcd-server",
    "containerd",
    "runc",
    "containernetworking-plugins",
    "gcc",
    "libc6-dev",
    "iproute2",
)
Progress = Callable[[str], None]


def cluster_up(layout: ClusterLayout, progress: Progress, hub_images: bool = True) -> Path:
    """Start every part not running yet; the admin kubeconfig's path."""
    if os.geteuid() != 0:
        raise ClusterError("the local cluster runs containerd and the kubelet: run it as root")
    started = time.monotonic()
    _install_missing(progress)
    ensure_binaries(layout, progress)
    for directory in (layout.state, layout.logs, layout.run):
        directory.mkdir(parents=True, exist_ok=True)
    facts = _facts(layout) or _new_facts(layout)
    ports = Ports(**facts["ports"])
    ensure_pki(layout.pki)
    server = f"https://127.0.0.1:{ports.apiserver}"
    for client in ("controller-manager", "scheduler", "kubelet", "kube-proxy"):
        write_kubeconfig(layout.state / f"{client}.kubeconfig", layout.pki, client, server)
    cni_bin = cni_bin_dir()
    if cni_bin is None:
        raise ClusterError("no CNI bridge plugin: apt-get install containernetworking-plugins")
    write_containerd_config(layout, cni_bin)
    write_cni_config(layout)
    write_kubelet_config(layout, ports)

    teardown.allow_pod_traffic()
    _start(layout, ports, "etcd", progress)
    _wait(f"etcd on 127.0.0.1:{ports.etcd_client}", lambda: _etcd_healthy(ports), layout, "etcd")
    _start(layout, ports, "containerd", progress)
    _wait("containerd's socket", layout.containerd_socket.exists, layout, "containerd")
    if load_pause_image(layout):
        progress("pause image compiled from pause.c and imported")
    if hub_images:
        load_hub_images(layout, progress)
    _start(layout, ports, "kube-apiserver", progress)
    _wait(
        f"the apiserver on {server}",
        lambda: _api_get(layout, ports, "/readyz") is not None,
        layout,
        "kube-apiserver",
        timeout=90,
    )
    for part in PARTS[3:]:
        _start(layout, ports, part, progress)
    _wait(
        "node localhost Ready", lambda: _node_ready(layout, ports), layout, "kubelet", timeout=120
    )
    write_kubeconfig(layout.kubeconfig, layout.pki, "admin", server)
    progress(f"cluster up in {time.monotonic() - started:.1f} s; kubeconfig {layout.kubeconfig}")
    return layout.kubeconfig


def cluster_status(layout: ClusterLayout) -> dict[str, str]:
    """Each part's state in words, plus the node's readiness."""
    report = {}
    for part in PARTS:
        pid = running_pid(part, layout.run)
        report[part] = f"running (pid {pid})" if pid else "stopped"
    facts = _facts(layout)
    if facts and running_pid("kube-apiserver", layout.run):
        ports = Ports(**facts["ports"])
        report["apiserver"] = "ready" if _api_get(layout, ports, "/readyz") else "not ready"
        report["node localhost"] = "Ready" if _node_ready(layout, ports) else "not Ready"
    return report


def cluster_down(layout: ClusterLayout, progress: Progress) -> list[str]:
    """Stop every part and remove what they made; what was left over (should be empty)."""
    facts = _facts(layout) or {"netns_before": []}
    for part in reversed(PARTS[2:]):
        if stop_process(part, layout.run):
            progress(f"stopped {part}")
    teardown.remove_proxy_rules(layout, set(facts.get("chains_before", [])))
    if running_pid("containerd", layout.run):
        killed = teardown.kill_containers(layout)
        progress(f"killed {killed} container task(s)")
    for part in ("containerd", "etcd"):
        if stop_process(part, layout.run):
            progress(f"stopped {part}")
    for pid in teardown.leftover_shims(layout):
        os.kill(pid, 9)
    removed = teardown.remove_network_namespaces(set(facts["netns_before"]))
    if removed:
        progress(f"removed network namespaces {', '.join(removed)}")
    teardown.remove_mounts(layout)
    teardown.remove_bridge()
    shutil.rmtree(layout.state / "cni" / "ipam", ignore_errors=True)
    # The next `up` starts from empty state: etcd and the kubelet's pods are gone.
    shutil.rmtree(layout.etcd_data, ignore_errors=True)
    shutil.rmtree(layout.kubelet_dir, ignore_errors=True)
    shutil.rmtree(layout.containerd_state, ignore_errors=True)
    layout.facts.unlink(missing_ok=True)
    return leftovers(layout, set(facts["netns_before"]))


def leftovers(layout: ClusterLayout, netns_before: set[str]) -> list[str]:
    """Everything of this cluster still present, in words."""
    found = [f"process {part}" for part in PARTS if running_pid(part, layout.run)]
    found += [f"shim pid {pid}" for pid in teardown.leftover_shims(layout)]
    found += [f"mount {point}" for point in teardown.leftover_mounts(layout)]
    found += [
        f"netns {name}"
        for name in teardown.network_namespaces() - netns_before
        if name.startswith("cni-")
    ]
    if teardown.bridge_exists():
        found.append("bridge hubchaos0")
    return found


def _install_missing(progress: Progress) -> None:
    needed = {
        "etcd-server": "/usr/bin/etcd",
        "containerd": "/usr/bin/containerd",
        "runc": "/usr/sbin/runc",
        "gcc": "/usr/bin/gcc",
        "iproute2": "/usr/sbin/ip",
    }
    missing = [package for package, path in needed.items() if not Path(path).exists()]
    if cni_bin_dir() is None:
        missing.append("containernetworking-plugins")
    if not Path("/usr/lib/x86_64-linux-gnu/libc.a").exists():
        missing.append("libc6-dev")
    if not shutil.which("go"):
        missing += list(BUILD_PACKAGES)
    if not missing:
        return
    progress(f"installing {' '.join(missing)} from Debian")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    done = subprocess.run(
        ["apt-get", "install", "-y", "-q", *missing],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ClusterError(
            f"apt-get install {' '.join(missing)} failed: {done.stderr.strip()[-200:]}"
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _new_facts(layout: ClusterLayout) -> dict:
    ports = Ports(*(_free_port() for _ in range(7)))
    facts = {
        "ports": ports.as_dict(),
        "netns_before": sorted(teardown.network_namespaces()),
        "chains_before": sorted(teardown.iptables_chains()),
    }
    layout.facts.write_text(json.dumps(facts, indent=2))
    return facts


def _facts(layout: ClusterLayout) -> dict | None:
    try:
        return dict(json.loads(layout.facts.read_text()))
    except (OSError, ValueError):
        return None


def _start(layout: ClusterLayout, ports: Ports, part: str, progress: Progress) -> None:
    if running_pid(part, layout.run):
        return
    if part == "containerd":
        layout.containerd_state.mkdir(parents=True, exist_ok=True)
    pid = start_process(part, argv_of(part, layout, ports), layout.run, layout.logs)
    progress(f"started {part} (pid {pid})")


def _wait(
    what: str, ready: Callable[[], bool], layout: ClusterLayout, part: str, timeout: float = 30.0
) -> None:
    def look(_left: float) -> bool:
        if ready():
            return True
        if running_pid(part, layout.run) is None:
            raise ClusterError(f"{part} exited; see {layout.logs / (part + '.log')}")
        return False

    if not poll_until(look, timeout, 0.3, look_at_deadline=True).held:
        raise ClusterError(f"{what} not ready after {timeout:.0f} s; see {layout.logs}")


def _etcd_healthy(ports: Ports) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ports.etcd_client}/health", timeout=2) as r:
            return bool(json.loads(r.read()).get("health") == "true")
    except (OSError, ValueError):
        return False


def _api_get(layout: ClusterLayout, ports: Ports, path: str) -> bytes | None:
    context = ssl.create_default_context(cafile=str(layout.pki / "ca.crt"))
    context.load_cert_chain(layout.pki / "admin.crt", layout.pki / "admin.key")
    url = f"https://127.0.0.1:{ports.apiserver}{path}"
    try:
        with urllib.request.urlopen(url, timeout=3, context=context) as response:
            return bytes(response.read())
    except (OSError, urllib.error.URLError):
        return None


def _node_ready(layout: ClusterLayout, ports: Ports) -> bool:
    body = _api_get(layout, ports, "/api/v1/nodes/localhost")
    if body is None:
        return False
    conditions = json.loads(body).get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
