"""Where the local cluster keeps its binaries (a shared cache) and its state (per checkout)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BINARIES", "KUBERNETES_VERSION", "ClusterLayout", "cache_dir"]

KUBERNETES_VERSION = "1.20.2"
# Debian bookworm's source package of that upstream tree (with vendor/).
DEBIAN_SOURCE_VERSION = "1.20.5+really1.20.2-1.1+deb12u1"
BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")


def cache_dir() -> Path:
    """HUBCHAOS_CACHE_DIR, else /var/cache/hubchaos for root, else $XDG_CACHE_HOME/hubchaos."""
    explicit = os.environ.get("HUBCHAOS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if os.geteuid() == 0:
        return Path("/var/cache/hubchaos")
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "hubchaos"


@dataclass(frozen=True)
class ClusterLayout:
    """Every path of one cluster: `state` is `.hubchaos/cluster` of the checkout."""

    state: Path
    cache: Path
    version: str = KUBERNETES_VERSION

    @property
    def bin_dir(self) -> Path:
        return self.cache / f"k8s-{self.version}" / "bin"

    def binary(self, name: str) -> Path:
        return self.bin_dir / name

    @property
    def pki(self) -> Path:
        return self.state / "pki"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def run(self) -> Path:
        return self.state / "run"

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubeconfig"

    @property
    def etcd_data(self) -> Path:
        return self.state / "etcd"

    @property
    def containerd_root(self) -> Path:
        return self.state / "containerd" / "root"

    @property
    def containerd_state(self) -> Path:
        # The socket path must stay short (108 bytes), so state lives under /run.
        return Path("/run/hubchaos") / _short_id(self.state) / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.containerd_state / "containerd.sock"

    @property
    def kubelet_dir(self) -> Path:
        return self.state / "kubelet"

    @property
    def cni_conf_dir(self) -> Path:
        return self.state / "cni" / "net.d"

    @property
    def facts(self) -> Path:
        """The cluster's ports and what existed before it started (JSON)."""
        return self.state / "cluster.json"


def _short_id(path: Path) -> str:
    import hashlib

    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:10]
