"""The command line of each part of the local cluster, everything bound to 127.0.0.1.

Ports are chosen free at `up` and recorded, so several checkouts can each run one.
Controller-manager and scheduler serve nothing (ports 0); the kubelet accepts only
clients whose certificate the cluster CA signed (the apiserver's), never anonymous.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from hubchaos.cluster.layout import ClusterLayout
from hubchaos.cluster.runtime import DNS_ADDRESS, POD_SUBNET

__all__ = ["SERVICE_SUBNET", "Ports", "argv_of", "write_kubelet_config"]

SERVICE_SUBNET = "10.0.0.0/24"


@dataclass(frozen=True)
class Ports:
    etcd_client: int
    etcd_peer: int
    apiserver: int
    kubelet: int
    kubelet_healthz: int
    proxy_metrics: int = 0
    proxy_healthz: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def argv_of(name: str, layout: ClusterLayout, ports: Ports) -> list[str]:
    """The command that runs part `name` (etcd, containerd, kube-*)."""
    pki, state = layout.pki, layout.state
    if name == "etcd":
        peer = f"http://127.0.0.1:{ports.etcd_peer}"
        client = f"http://127.0.0.1:{ports.etcd_client}"
        return [
            "/usr/bin/etcd",
            "--name=hubchaos",
            f"--data-dir={layout.etcd_data}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=hubchaos={peer}",
            "--initial-cluster-state=new",
            "--listen-metrics-urls=",
            "--logger=zap",
            "--log-outputs=stderr",
        ]
    if name == "containerd":
        return ["/usr/bin/containerd", f"--config={state / 'containerd.toml'}"]
    if name == "kube-apiserver":
        return [
            str(layout.binary(name)),
            f"--etcd-servers=http://127.0.0.1:{ports.etcd_client}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={ports.apiserver}",
            "--insecure-port=0",
            f"--service-cluster-ip-range={SERVICE_SUBNET}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
            "--kubelet-preferred-address-types=Hostname",  # localhost: 127.0.0.1
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc",
            "--authorization-mode=Node,RBAC",
            "--allow-privileged=true",
            "--endpoint-reconciler-type=none",
        ]
    if name == "kube-controller-manager":
        return [
            str(layout.binary(name)),
            f"--kubeconfig={state / 'controller-manager.kubeconfig'}",
            "--bind-address=127.0.0.1",
            "--port=0",
            "--secure-port=0",
            "--leader-elect=false",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            "--use-service-account-credentials=true",
            f"--cluster-signing-cert-file={pki / 'ca.crt'}",
            f"--cluster-signing-key-file={pki / 'ca.key'}",
            f"--service-cluster-ip-range={SERVICE_SUBNET}",
            f"--cluster-cidr={POD_SUBNET}",
            "--allocate-node-cidrs=false",
            "--controllers=*,-nodeipam,-cloud-node-lifecycle",
        ]
    if name == "kube-scheduler":
        return [
            str(layout.binary(name)),
            f"--kubeconfig={state / 'scheduler.kubeconfig'}",
            "--bind-address=127.0.0.1",
            "--port=0",
            "--secure-port=0",
            "--leader-elect=false",
        ]
    if name == "kube-proxy":
        return [
            str(layout.binary(name)),
            f"--kubeconfig={state / 'kube-proxy.kubeconfig'}",
            "--hostname-override=localhost",
            f"--cluster-cidr={POD_SUBNET}",
            "--proxy-mode=iptables",
            "--bind-address=127.0.0.1",
            # Not on this machine's own sysctls: conntrack is left as the host set it.
            "--conntrack-max-per-core=0",
            f"--healthz-bind-address=127.0.0.1:{ports.proxy_healthz}",
            f"--metrics-bind-address=127.0.0.1:{ports.proxy_metrics}",
        ]
    if name == "dns":
        return [sys.executable, "-m", "hubchaos.cluster.dns", str(pki), str(ports.apiserver),
                DNS_ADDRESS]  # fmt: skip
    if name == "kubelet":
        return [
            str(layout.binary(name)),
            f"--config={state / 'kubelet.yaml'}",
            f"--kubeconfig={state / 'kubelet.kubeconfig'}",
            "--container-runtime=remote",
            f"--container-runtime-endpoint=unix://{layout.containerd_socket}",
            "--hostname-override=localhost",
            f"--root-dir={layout.kubelet_dir}",
            f"--cert-dir={pki / 'kubelet-serving'}",
            "--v=1",
        ]
    raise ValueError(f"unknown cluster part {name!r}")


def write_kubelet_config(layout: ClusterLayout, ports: Ports) -> Path:
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": "127.0.0.1",
        "port": ports.kubelet,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": ports.kubelet_healthz,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": False},
            "x509": {"clientCAFile": str(layout.pki / "ca.crt")},
        },
        "authorization": {"mode": "AlwaysAllow"},
        "cgroupDriver": "cgroupfs",
        "cgroupsPerQOS": False,
        "enforceNodeAllocatable": [],
        "failSwapOn": False,
        # No KUBE-* iptables chains: `down` must leave the host's rules as they were.
        "makeIPTablesUtilChains": False,
        "serializeImagePulls": False,
        "resolvConf": "/etc/resolv.conf",
        "clusterDomain": "cluster.local",
        "clusterDNS": [DNS_ADDRESS],
        "evictionHard": {
            "memory.available": "50Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
        },
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "volumePluginDir": str(layout.kubelet_dir / "volume-plugins"),
    }
    path = layout.state / "kubelet.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
