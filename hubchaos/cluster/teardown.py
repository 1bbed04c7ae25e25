"""What `cluster down` removes besides processes: containers and their shims, mounts,
network namespaces, the pod bridge.

Only what this cluster made is touched: tasks of its own containerd socket, mounts
below its own directories, network namespaces that appeared after it started.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
from pathlib import Path

from hubchaos.cluster.layout import ClusterLayout
from hubchaos.cluster.runtime import BRIDGE, FORWARD_RULE

__all__ = [
    "NETNS_DIR",
    "allow_pod_traffic",
    "bridge_exists",
    "iptables_chains",
    "kill_containers",
    "leftover_mounts",
    "leftover_shims",
    "network_namespaces",
    "remove_bridge",
    "remove_mounts",
    "remove_network_namespaces",
    "remove_proxy_rules",
]

NETNS_DIR = Path("/var/run/netns")
_NAMESPACE = "k8s.io"


def kill_containers(layout: ClusterLayout) -> int:
    """Kill and delete every task and container of the cluster's containerd (it must run)."""
    base = ["ctr", "--address", str(layout.containerd_socket), "--namespace", _NAMESPACE]
    listed = _ctr([*base, "tasks", "list", "--quiet"])
    tasks = listed.split()
    for task in tasks:
        _ctr([*base, "tasks", "kill", "--all", "--signal", "SIGKILL", task])
    for task in tasks:
        _ctr([*base, "tasks", "delete", "--force", task])
    for container in _ctr([*base, "containers", "list", "--quiet"]).split():
        _ctr([*base, "containers", "delete", container])
    return len(tasks)


def leftover_shims(layout: ClusterLayout) -> list[int]:
    """Pids of containerd shims serving this cluster's containerd."""
    needle = str(layout.containerd_socket).encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"containerd-shim" in cmdline and needle in cmdline:
            found.append(int(proc.name))
    return found


def _our_roots(layout: ClusterLayout) -> tuple[str, ...]:
    return (
        str(layout.state.resolve()),
        str(layout.containerd_state),
        str(layout.containerd_root.resolve()),
    )


def leftover_mounts(layout: ClusterLayout) -> list[str]:
    """Mount points below the cluster's directories, deepest first."""
    roots = _our_roots(layout)
    points = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        point = line.split()[1].replace("\\040", " ")
        if any(point == root or point.startswith(root + "/") for root in roots):
            points.append(point)
    return sorted(set(points), key=len, reverse=True)


def remove_mounts(layout: ClusterLayout) -> None:
    for point in leftover_mounts(layout):
        subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)


def network_namespaces() -> set[str]:
    with contextlib.suppress(FileNotFoundError):
        return {entry.name for entry in NETNS_DIR.iterdir()}
    return set()


def remove_network_namespaces(before: set[str]) -> list[str]:
    """Remove the cni-* namespaces that did not exist before the cluster started."""
    removed = []
    for name in sorted(network_namespaces() - before):
        if not name.startswith("cni-"):
            continue
        path = NETNS_DIR / name
        subprocess.run(["umount", "--lazy", str(path)], capture_output=True, check=False)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        removed.append(name)
    return removed


def bridge_exists() -> bool:
    return Path(f"/sys/class/net/{BRIDGE}").exists()


def remove_bridge() -> None:
    if bridge_exists():
        subprocess.run(["ip", "link", "delete", BRIDGE], capture_output=True, check=False)


def _ctr(argv: list[str]) -> str:
    done = subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=60, env=dict(os.environ)
    )
    return done.stdout


def iptables_chains() -> set[str]:
    """'table/chain' of every iptables chain of the host."""
    done = subprocess.run(["iptables-save"], capture_output=True, text=True, check=False)
    table, chains = "", set()
    for line in done.stdout.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":"):
            chains.add(f"{table}/{line[1:].split()[0]}")
    return chains


def allow_pod_traffic() -> None:
    chain, *rule = FORWARD_RULE
    present = subprocess.run(["iptables", "-C", chain, *rule], capture_output=True, check=False)
    if present.returncode != 0:
        subprocess.run(["iptables", "-I", chain, "1", *rule], capture_output=True, check=False)


def remove_proxy_rules(layout: ClusterLayout, chains_before: set[str]) -> None:
    """kube-proxy's own clean-up, then any KUBE-* chain the cluster added that survived it,
    and the cluster's own FORWARD rule."""
    chain, *rule = FORWARD_RULE
    for _ in range(10):  # every copy of it
        removed = subprocess.run(["iptables", "-D", chain, *rule], capture_output=True)
        if removed.returncode != 0:
            break
    proxy = layout.binary("kube-proxy")
    if proxy.exists():
        subprocess.run([str(proxy), "--cleanup"], capture_output=True, check=False, timeout=60)
    added = sorted(c for c in iptables_chains() - chains_before if "/KUBE-" in c)
    for entry in added:  # first every rule that jumps to one of them, then the chains
        table, chain = entry.split("/", 1)
        _drop_jumps(table, chain)
    for entry in added:
        table, chain = entry.split("/", 1)
        subprocess.run(["iptables", "-t", table, "-F", chain], capture_output=True, check=False)
    for entry in added:
        table, chain = entry.split("/", 1)
        subprocess.run(["iptables", "-t", table, "-X", chain], capture_output=True, check=False)


def _drop_jumps(table: str, chain: str) -> None:
    done = subprocess.run(["iptables-save", "-t", table], capture_output=True, text=True,
                          check=False)  # fmt: skip
    for line in done.stdout.splitlines():
        if line.startswith("-A ") and f"-j {chain}" in line.split(" -m comment")[0] + " ":
            argv = ["iptables", "-t", table, "-D", *shlex.split(line[3:])]
            subprocess.run(argv, capture_output=True, check=False)
