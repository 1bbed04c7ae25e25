"""`hubchaos cluster up | status | down`: a local single-node Kubernetes on loopback."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hubchaos.cluster.layout import ClusterLayout, cache_dir
from hubchaos.cluster.node import cluster_down, cluster_status, cluster_up

__all__ = ["cluster_command"]

_STATE_HELP = "The cluster's state (certificates, logs, kubeconfig)."


def _layout(state_dir: Path) -> ClusterLayout:
    return ClusterLayout(state=state_dir.absolute(), cache=cache_dir())


def _progress(line: str) -> None:
    click.echo(line, err=True)


@click.group("cluster")
def cluster_command() -> None:
    """A real single-node Kubernetes 1.20 on 127.0.0.1 (built once from Debian's source).

    Binaries are cached in /var/cache/hubchaos (root), $XDG_CACHE_HOME/hubchaos, or
    HUBCHAOS_CACHE_DIR; the kubeconfig is written to .hubchaos/cluster/kubeconfig.
    """


@cluster_command.command("up")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=Path(".hubchaos/cluster"),
    show_default=True,
    help=_STATE_HELP,
)
@click.option(
    "--no-hub-images",
    is_flag=True,
    help="Do not load the hub's offline Docker images into the cluster.",
)
def up_command(state_dir: Path, no_hub_images: bool) -> None:
    """Build the binaries if needed, start etcd, the control plane, containerd and the kubelet."""
    kubeconfig = cluster_up(_layout(state_dir), _progress, hub_images=not no_hub_images)
    click.echo(f"export KUBECONFIG={kubeconfig}")


@cluster_command.command("status")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=Path(".hubchaos/cluster"),
    show_default=True,
    help=_STATE_HELP,
)
def status_command(state_dir: Path) -> None:
    """Each part's state; exit 1 unless the node is Ready."""
    report = cluster_status(_layout(state_dir))
    width = max(len(part) for part in report)
    for part, state in report.items():
        click.echo(f"{part:<{width}}  {state}")
    if report.get("node localhost") != "Ready":
        sys.exit(1)


@cluster_command.command("down")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=Path(".hubchaos/cluster"),
    show_default=True,
    help=_STATE_HELP,
)
def down_command(state_dir: Path) -> None:
    """Stop everything `up` started; no process, shim, mount, netns or bridge is left."""
    left = cluster_down(_layout(state_dir), _progress)
    if left:
        click.echo(f"left behind: {', '.join(left)}", err=True)
        sys.exit(4)
    click.echo("cluster stopped; nothing left behind")
