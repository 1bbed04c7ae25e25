"""Cordon and uncordon a Kubernetes node, with the cordon in the fault ledger.

chaostoolkit-kubernetes' `cordon_node`/`uncordon_node` do the patching; these
wrappers add what a node shared with other teams needs: the cordon is
recorded in the fault ledger (hubchaos.ledger) before it is applied, with its
undo (uncordon, through the same kubeconfig and context), so the dead man's
switch and `hubchaos recover` uncordon the node if the runner dies before its
rollback. `uncordon_node` settles this process's cordon of the node; declare
it in the rollbacks (strategy `always`) as well as where maintenance ends.
"""

from __future__ import annotations

import os

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from hubchaos import ledger as fault_ledger
from hubchaos.ledger.undo import undo_uncordon_node

__all__ = ["cordon_node", "uncordon_node"]

KIND = "kubernetes:cordon"


def cordon_node(
    name: str, configuration: Configuration = None, secrets: Secrets = None
) -> list[str]:
    """Mark node `name` unschedulable (no new pod lands on it); returns the nodes cordoned.

    Running pods stay where they are. Recorded in the fault ledger first.
    """
    from chaosk8s import get_config_path
    from chaosk8s.node.actions import cordon_node as k8s_cordon_node

    if not name:
        raise ActivityFailed("cordon: name the node to cordon (an empty name would cordon all)")
    context = (secrets or {}).get("KUBERNETES_CONTEXT") or os.environ.get("KUBERNETES_CONTEXT")
    kubeconfig = os.path.abspath(os.path.expanduser(get_config_path()))
    entry = fault_ledger.record(
        KIND, f"node {name}", undo_uncordon_node(kubeconfig, context, name), configuration
    )
    try:
        return list(k8s_cordon_node(name=name, secrets=secrets))
    except ActivityFailed:
        fault_ledger.settle(entry, configuration)  # nothing was cordoned
        raise


def uncordon_node(
    name: str, configuration: Configuration = None, secrets: Secrets = None
) -> list[str]:
    """Make node `name` schedulable again; returns the nodes uncordoned.

    Idempotent; settles this process's ledger entries for the node's cordon.
    """
    from chaosk8s.node.actions import uncordon_node as k8s_uncordon_node

    if not name:
        raise ActivityFailed("uncordon: name the node to uncordon")
    done = list(k8s_uncordon_node(name=name, secrets=secrets))
    for entry in fault_ledger.mine(configuration, KIND):
        if entry.undo.get("node") == name:
            fault_ledger.settle(entry, configuration)
    return done
