"""`hubchaos budget PATH`: exit 0 when the connections fit, 1 when not, 2 on bad input."""

from __future__ import annotations

import sys

import click

from hubchaos.budget.sources import load_cases

__all__ = ["budget_command"]


@click.command("budget")
@click.argument("path")
@click.option(
    "--profile",
    "profile_name",
    default=None,
    help="With a profiles file: check only this profile (default: every profile in it).",
)
@click.option(
    "--replicas",
    type=int,
    default=None,
    help="With a profile: the replica count to check (default: 2, as `hubchaos up`).",
)
def budget_command(path: str, profile_name: str | None, replicas: int | None) -> None:
    """Check that PATH's database connections fit PostgreSQL, from its files alone.

    PATH is a Kubernetes overlay directory (e.g. environments/kubernetes/overlays/fixed),
    a profiles file (environments/local/profiles.yaml) or a profile name (fixed,
    incident). Checked: replicas x (pool max + health check) + observer slots
    <= max_connections - superuser_reserved_connections, and the app role's
    CONNECTION LIMIT. For an overlay, replicas is the HorizontalPodAutoscaler's
    maxReplicas. Exit 0 fits, 1 does not fit, 2 bad input.
    """
    cases = load_cases(path, profile_name, replicas)
    for number, case in enumerate(cases):
        if number:
            click.echo("")
        click.echo("\n".join(case.lines()))
    if not all(case.fits for case in cases):
        sys.exit(1)  # as `status`: SystemExit reaches every entry point
