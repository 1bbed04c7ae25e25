"""What `hubchaos budget PATH` checks: a Kubernetes overlay, a profiles file or a profile name.

An overlay is read from its manifests alone, rendered by hubchaos.kube.kustomize:
PostgreSQL's `-c max_connections=...` and `superuser_reserved_connections`, the
app's LEARNINGHUB_POOL_MAX, the autoscaler's maxReplicas (else the Deployment's
replicas), the migrate Job's role and observer CONNECTION LIMITs and the
exporter's pods, each followed through ConfigMaps and `$(VAR)` expansion.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from hubchaos.budget.arithmetic import BudgetCase
from hubchaos.errors import UserError
from hubchaos.kube.kustomize import KUSTOMIZATION_NAMES, build, kustomization_file
from hubchaos.kube.workloads import ManifestError, Manifests
from hubchaos.stack.driver import DEFAULT_REPLICAS
from hubchaos.stack.profiles import (
    HEALTH_CONNECTIONS_PER_REPLICA,
    MAX_REPLICAS,
    Budget,
    PoolSettings,
    Profile,
    Profiles,
    ResolvedProfile,
    default_profiles_path,
    load_profiles,
)

__all__ = ["load_cases", "overlay_case", "profile_cases"]

# PostgreSQL's own defaults, for a server started without -c settings.
PG_DEFAULTS = {"max_connections": 100, "superuser_reserved_connections": 3}
# The manifests' names (environments/kubernetes/base).
APP = ("Deployment", "learninghub", "learninghub")
POSTGRES = ("StatefulSet", "postgres", "postgres")
MIGRATE = ("Job", "migrate", "migrate")
EXPORTER = ("Deployment", "postgres-exporter")
# The --observer-limit default of environments/docker/migrate.py, the program the
# Job runs. It is a script of that environment, not a module of this package, so
# the number is repeated here; tests/kube/test_drift.py reads it from the script.
OBSERVER_LIMIT_DEFAULT = 6
CONNECTIONS_PER_EXPORTER = 1


def load_cases(path: str, profile: str | None, replicas: int | None) -> list[BudgetCase]:
    """The cases PATH names; UserError (exit 2) when it names nothing usable."""
    candidate = Path(path)
    if candidate.is_file() and candidate.name in KUSTOMIZATION_NAMES:
        candidate = candidate.parent  # the overlay's own kustomization.yaml
    if candidate.is_dir():
        if profile is not None or replicas is not None:
            raise UserError(
                f"{path} is a Kubernetes overlay: its replicas and pools come from its "
                "manifests, so --profile and --replicas do not apply"
            )
        return [overlay_case(candidate)]
    if candidate.is_file():
        return profile_cases(candidate, profile, replicas)
    if profile is not None:
        raise UserError(f"{path}: no such overlay directory or profiles file")
    known = load_profiles().names()
    if path in known:
        return profile_cases(default_profiles_path(), path, replicas)
    raise UserError(
        f"{path}: not an overlay directory, a profiles file or a profile name "
        f"(profiles: {', '.join(known)})"
    )


def profile_cases(path: Path, name: str | None, replicas: int | None) -> list[BudgetCase]:
    """One case per profile of a profiles file (or only `name`), at `replicas` replicas."""
    profiles = load_profiles(path)
    count = DEFAULT_REPLICAS if replicas is None else replicas
    if not 1 <= count <= MAX_REPLICAS:
        raise UserError(f"--replicas must be between 1 and {MAX_REPLICAS} (got {count})")
    names = [name] if name is not None else profiles.names()
    origin = "--replicas" if replicas is not None else "the default of hubchaos up"
    return [
        BudgetCase(f"profile {each} ({path})", origin, _resolve(profiles, each, count))
        for each in names
    ]


def _resolve(profiles: Profiles, name: str, replicas: int) -> ResolvedProfile:
    """profiles.resolve, except that a budget-deriving profile with too many replicas for
    even a one-connection pool is shown at that smallest pool (it does not fit: exit 1)
    rather than refused as bad input."""
    profile = profiles.profiles.get(name)
    budget = profiles.budget
    smallest = 1 + HEALTH_CONNECTIONS_PER_REPLICA
    if profile is None or not profile.enforces_budget or replicas * smallest <= budget.app_budget:
        return profiles.resolve(name, replicas)
    return ResolvedProfile(
        profile=profile,
        budget=budget,
        replicas=replicas,
        pool=PoolSettings(
            min=min(profile.min, 1),
            max=1,
            timeout_s=profile.timeout_s,
            max_waiting=profile.max_waiting,
            statement_timeout_ms=profile.statement_timeout_ms,
        ),
        role_connection_limit=budget.app_budget if profile.role_limit_from_budget else -1,
    )


def overlay_case(directory: Path) -> BudgetCase:
    """The overlay's numbers, from its rendered manifests alone."""
    kustomization_file(directory)
    manifests = Manifests(build(directory), f"overlay {directory}")
    budget = Budget(
        max_connections=_postgres_setting(manifests, "max_connections"),
        superuser_reserved_connections=_postgres_setting(
            manifests, "superuser_reserved_connections"
        ),
        observer_slots={
            "exporter": _exporter_connections(manifests),
            "observer role": _migrate_option(manifests, "--observer-limit", OBSERVER_LIMIT_DEFAULT),
        },
    )
    kind, name, container = APP
    app_env = manifests.env(manifests.require(kind, name), container)
    pool_max = _integer(app_env, "LEARNINGHUB_POOL_MAX", f"{manifests.source}: {kind} {name}")
    replicas, replicas_from = _app_replicas(manifests)
    profile = Profile(
        name=directory.name,
        description=f"Kubernetes overlay {directory}",
        max_per_replica=pool_max,
        max_per_replica_cap=None,
        min=int(app_env.get("LEARNINGHUB_POOL_MIN", "0") or 0),
        timeout_s=float(app_env.get("LEARNINGHUB_POOL_TIMEOUT", "0") or 0),
        max_waiting=int(app_env.get("LEARNINGHUB_POOL_MAX_WAITING", "0") or 0),
        statement_timeout_ms=int(app_env.get("LEARNINGHUB_STATEMENT_TIMEOUT_MS", "0") or 0),
        role_limit_from_budget=False,
    )
    pool = PoolSettings(
        min=profile.min,
        max=pool_max,
        timeout_s=profile.timeout_s,
        max_waiting=profile.max_waiting,
        statement_timeout_ms=profile.statement_timeout_ms,
    )
    resolved = ResolvedProfile(
        profile=profile,
        budget=budget,
        replicas=replicas,
        pool=pool,
        role_connection_limit=_migrate_option(manifests, "--role-connection-limit", -1),
    )
    return BudgetCase(f"overlay {directory}", replicas_from, resolved)


def _postgres_setting(manifests: Manifests, setting: str) -> int:
    kind, name, container = POSTGRES
    words = manifests.command_line(manifests.require(kind, name), container)
    values = {}
    for flag, value in itertools.pairwise(words):
        if flag == "-c" and "=" in value:
            key, _, number = value.partition("=")
            values[key.strip()] = number.strip()
    where = f"{manifests.source}: {kind} {name} setting"
    return _integer(values, setting, where, default=PG_DEFAULTS[setting])


def _migrate_option(manifests: Manifests, option: str, default: int) -> int:
    kind, name, container = MIGRATE
    job = manifests.find(kind, name)
    if job is None:
        return default
    words = manifests.command_line(job, container)
    values = dict(itertools.pairwise(words))
    return _integer(values, option, f"{manifests.source}: {kind} {name}", default=default, low=-1)


def _exporter_connections(manifests: Manifests) -> int:
    exporter = manifests.find(*EXPORTER)
    if exporter is None:
        return 0
    return int(exporter.get("spec", {}).get("replicas", 1)) * CONNECTIONS_PER_EXPORTER


def _app_replicas(manifests: Manifests) -> tuple[int, str]:
    """The most replicas the app can have: the autoscaler's ceiling, else spec.replicas."""
    kind, name, _ = APP
    for hpa in manifests.of_kind("HorizontalPodAutoscaler"):
        target = hpa.get("spec", {}).get("scaleTargetRef", {})
        if target.get("kind") == kind and target.get("name") == name:
            ceiling = hpa["spec"].get("maxReplicas")
            if not isinstance(ceiling, int) or ceiling < 1:
                raise ManifestError(
                    f"{manifests.source}: HorizontalPodAutoscaler "
                    f"{hpa['metadata']['name']} needs a maxReplicas of at least 1"
                )
            return ceiling, f"HorizontalPodAutoscaler {hpa['metadata']['name']} maxReplicas"
    replicas = manifests.require(kind, name).get("spec", {}).get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 0:
        raise ManifestError(f"{manifests.source}: {kind} {name} has replicas {replicas!r}")
    return replicas, f"{kind} {name} replicas"


def _integer(
    values: dict[str, Any], key: str, where: str, default: int | None = None, low: int = 0
) -> int:
    raw = values.get(key)
    if raw is None:
        if default is None:
            raise ManifestError(f"{where}: {key} is not set")
        return default
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise ManifestError(f"{where}: {key} is {raw!r}, not a whole number") from None
    if number < low:
        raise ManifestError(f"{where}: {key} is {number}, below {low}")
    return number
