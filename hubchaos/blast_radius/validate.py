"""The blast-radius check of a whole experiment, run when the file is validated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chaoslib import substitute
from chaoslib.configuration import load_configuration
from chaoslib.secret import load_secrets

from hubchaos.blast_radius.bounds import bound_problem
from hubchaos.blast_radius.targets import activities, experiment_targets, hosts_of
from hubchaos.reach.hosts import allowed_hosts, host_refusal

__all__ = ["BlastRadiusError", "check_experiment"]


class BlastRadiusError(ValueError):
    """A target outside the blast radius, or a flood beyond its limits: one line saying which."""


def _resolved(experiment: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The configuration and secrets as chaoslib will hand them to the activities."""

    configuration = load_configuration(dict(experiment.get("configuration") or {}))
    try:
        secrets = load_secrets(dict(experiment.get("secrets") or {}), configuration)
    except Exception:  # a vault or file secret not reachable now: substitute without it
        secrets = {}
    return dict(configuration or {}), dict(secrets or {})


def check_experiment(experiment: Mapping[str, Any]) -> None:
    """Raise BlastRadiusError for the first target outside the blast radius or flood too big."""

    configuration, secrets = _resolved(experiment)
    allowed = allowed_hosts(configuration)
    checked: set[str] = set()
    for target in experiment_targets(experiment, configuration, secrets):
        try:
            hosts = hosts_of(target)
        except ValueError as exc:
            raise BlastRadiusError(f"{target.where}: invalid target: {exc}") from None
        for host in hosts:
            if host in checked:
                continue
            refusal = host_refusal(host, allowed)
            if refusal:
                raise BlastRadiusError(f"{target.where}: {refusal}")
            checked.add(host)
    for activity in activities(experiment):
        provider = activity.get("provider") or {}
        if provider.get("type") != "python":
            continue
        arguments = substitute(dict(provider.get("arguments") or {}), configuration, secrets)
        function = f"{provider.get('module')}.{provider.get('func')}"
        problem = bound_problem(function, arguments or {})
        if problem:
            raise BlastRadiusError(f"activity '{activity.get('name', '?')}': {problem}")
