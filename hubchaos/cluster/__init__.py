"""A real single-node Kubernetes on loopback, for CI and for users without a cluster.

`hubchaos cluster up` builds the server binaries once from Debian's source package
(cached, keyed by version), then starts etcd, the control plane, a containerd of its
own and the kubelet, all on 127.0.0.1, and writes `.hubchaos/cluster/kubeconfig`.
`down` stops all of it and removes every mount, network namespace and bridge it made.

Modules: layout (where things live), build (the one-time build), pki (certificates
and kubeconfigs), runtime (containerd and CNI configuration), pause (the pod sandbox
image), supervise (detached processes and their pid files), node (up/status/down), cli.
"""
