"""Configuration of the cluster's own containerd and of the pod network (bridge CNI).

containerd runs as a separate instance (own root, state and socket), so it never
touches the containerd Docker uses. `restrict_oom_score_adj` is on because this
machine may itself be a container where runc cannot lower oom_score_adj.
"""

from __future__ import annotations

import json
from pathlib import Path

from hubchaos.cluster.layout import ClusterLayout

__all__ = [
    "BRIDGE",
    "CNI_BIN_DIRS",
    "DNS_ADDRESS",
    "FORWARD_RULE",
    "PAUSE_IMAGE",
    "POD_SUBNET",
    "cni_bin_dir",
    "write_cni_config",
    "write_containerd_config",
]

PAUSE_IMAGE = "k8s.gcr.io/pause:3.4"
BRIDGE = "hubchaos0"
# A private /24 that exists only inside this machine; pods talk on it, the host never does.
POD_SUBNET = "10.213.0.0/24"
DNS_ADDRESS = "10.213.0.1"  # the bridge's gateway: the host side of the pod network
CNI_BIN_DIRS = (Path("/usr/lib/cni"), Path("/opt/cni/bin"))


def cni_bin_dir() -> Path | None:
    """Where the CNI plugins (bridge, host-local, loopback) are installed, or None."""
    for candidate in CNI_BIN_DIRS:
        if (candidate / "bridge").exists():
            return candidate
    return None


def write_containerd_config(layout: ClusterLayout, cni_bin: Path) -> Path:
    state = layout.containerd_state
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    text = f"""version = 2
root = "{layout.containerd_root}"
state = "{state}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "{layout.containerd_socket}"

[ttrpc]
  address = "{state}/containerd.sock.ttrpc"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{layout.containerd_root}/opt"

[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.cni]
  bin_dir = "{cni_bin}"
  conf_dir = "{layout.cni_conf_dir}"
"""
    path = layout.state / "containerd.toml"
    path.write_text(text)
    return path


# Bridged pod traffic passes the host's FORWARD chain (br_netfilter), whose policy Docker
# sets to DROP: one rule lets pods of the bridge talk to each other; `down` removes it.
FORWARD_RULE = ("FORWARD", "-i", BRIDGE, "-o", BRIDGE, "-m", "comment", "--comment",
                "hubchaos-cluster pod-to-pod", "-j", "ACCEPT")  # fmt: skip


def write_cni_config(layout: ClusterLayout) -> Path:
    """Bridge + host-local on POD_SUBNET; no masquerade, so no iptables rule is made."""
    config = {
        "cniVersion": "0.4.0",
        "name": "hubchaos",
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_SUBNET}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(layout.state / "cni" / "ipam"),
                },
            },
        ],
    }
    layout.cni_conf_dir.mkdir(parents=True, exist_ok=True)
    path = layout.cni_conf_dir / "10-hubchaos.conflist"
    path.write_text(json.dumps(config, indent=2))
    return path
