"""The Kubernetes API client of hubchaos's own Kubernetes actions and probes.

It reaches the cluster chaostoolkit-kubernetes reaches: the kubeconfig named by
KUBECONFIG (else ~/.kube/config) with KUBERNETES_CONTEXT (secrets first, then
the environment), else chaostoolkit-kubernetes' in-pod and KUBERNETES_HOST
settings. One difference: KUBECONFIG is read when the activity runs.
chaostoolkit-kubernetes loads the kubernetes package's default path, which that
package fixes when it is first imported, so a process whose KUBECONFIG changed
afterwards would still reach the first cluster.
"""

import os
from typing import Any

from chaoslib.types import Secrets

__all__ = ["cluster_api_client"]


def cluster_api_client(secrets: Secrets = None) -> Any:
    """A kubernetes.client.ApiClient for the cluster the activity targets."""
    from chaosk8s import create_k8s_api_client, get_config_path, has_local_config_file
    from kubernetes import config

    kubeconfig = get_config_path()
    if not has_local_config_file(kubeconfig):
        return create_k8s_api_client(secrets)
    looked_up = secrets or {}
    context = looked_up.get("KUBERNETES_CONTEXT", os.environ.get("KUBERNETES_CONTEXT"))
    return config.new_client_from_config(config_file=kubeconfig, context=context or None)
