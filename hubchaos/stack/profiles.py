"""Pool profiles and the connection budget they must respect.

environments/local/profiles.yaml holds the numbers as data; this module checks
them and turns a profile plus a replica count into concrete pool settings. The
budget arithmetic is the postmortem's:

    app budget = max_connections - superuser_reserved_connections - observer slots

and a profile that enforces the budget gets `floor(app budget / replicas) - 1`
pool connections per replica (capped; the 1 is the health checker's), so
scaling out never exceeds it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hubchaos.errors import UserError
from hubchaos.stack.environments import environment_path

PROFILES_ENV = "HUBCHAOS_PROFILES"
MAX_REPLICAS = 20  # app replicas listen on 18001..18020
# Besides its pool, each replica's health checker may open one short-lived
# connection (when its pool is empty or failing): it counts in the budget.
HEALTH_CONNECTIONS_PER_REPLICA = 1
BUDGET = "budget"  # the yaml keyword for "derive from the app budget"


def default_profiles_path() -> Path:
    """$HUBCHAOS_PROFILES, else profiles.yaml of the local environment (see environments)."""
    override = os.environ.get(PROFILES_ENV)
    if override:
        return Path(override)
    return environment_path("local", "profiles.yaml")


@dataclass(frozen=True)
class Budget:
    """PostgreSQL's connection slots and who may use them."""

    max_connections: int
    superuser_reserved_connections: int
    observer_slots: dict[str, int]

    @property
    def observers(self) -> int:
        return sum(self.observer_slots.values())

    @property
    def non_superuser_slots(self) -> int:
        """Logins PostgreSQL accepts from ordinary roles before refusing with 53300."""
        return self.max_connections - self.superuser_reserved_connections

    @property
    def app_budget(self) -> int:
        return self.non_superuser_slots - self.observers

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_connections": self.max_connections,
            "superuser_reserved_connections": self.superuser_reserved_connections,
            "observer_slots": dict(self.observer_slots),
            "observers": self.observers,
            "app_budget": self.app_budget,
        }


@dataclass(frozen=True)
class PoolSettings:
    """What one app replica gets, as LEARNINGHUB_* environment variables."""

    min: int
    max: int
    timeout_s: float
    max_waiting: int
    statement_timeout_ms: int

    def env(self) -> dict[str, str]:
        return {
            "LEARNINGHUB_POOL_MIN": str(self.min),
            "LEARNINGHUB_POOL_MAX": str(self.max),
            "LEARNINGHUB_POOL_TIMEOUT": f"{self.timeout_s:g}",
            "LEARNINGHUB_POOL_MAX_WAITING": str(self.max_waiting),
            "LEARNINGHUB_STATEMENT_TIMEOUT_MS": str(self.statement_timeout_ms),
        }


@dataclass(frozen=True)
class Profile:
    """One profile as written in profiles.yaml (before --replicas is known)."""

    name: str
    description: str
    max_per_replica: int | None  # None: derived from the budget
    max_per_replica_cap: int | None
    min: int
    timeout_s: float
    max_waiting: int
    statement_timeout_ms: int
    role_limit_from_budget: bool

    @property
    def enforces_budget(self) -> bool:
        return self.max_per_replica is None


@dataclass(frozen=True)
class ResolvedProfile:
    """A profile applied to a replica count: everything `up` needs."""

    profile: Profile
    budget: Budget
    replicas: int
    pool: PoolSettings
    role_connection_limit: int  # -1 = none (PostgreSQL's own spelling)

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def app_connections_max(self) -> int:
        return self.replicas * (self.pool.max + HEALTH_CONNECTIONS_PER_REPLICA)

    @property
    def fits_budget(self) -> bool:
        return self.app_connections_max <= self.budget.app_budget

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.budget.as_dict(),
            "replicas": self.replicas,
            "pool_max_per_replica": self.pool.max,
            "pool_min_per_replica": self.pool.min,
            "pool_timeout_s": self.pool.timeout_s,
            "pool_max_waiting": self.pool.max_waiting,
            "statement_timeout_ms": self.pool.statement_timeout_ms,
            "app_connections_max": self.app_connections_max,
            "fits_budget": self.fits_budget,
            "role_connection_limit": self.role_connection_limit,
        }


@dataclass(frozen=True)
class Profiles:
    budget: Budget
    profiles: dict[str, Profile]

    def names(self) -> list[str]:
        return sorted(self.profiles)

    def resolve(self, name: str, replicas: int) -> ResolvedProfile:
        """Pool settings for `replicas` replicas; UserError for an impossible request."""
        profile = self.profiles.get(name)
        if profile is None:
            raise UserError(f"unknown profile '{name}': choose one of {', '.join(self.names())}")
        if replicas < 1:
            raise UserError(f"--replicas must be at least 1 (got {replicas})")
        if replicas > MAX_REPLICAS:
            raise UserError(f"--replicas must be at most {MAX_REPLICAS} (got {replicas})")
        budget = self.budget
        if profile.max_per_replica is None:
            share = budget.app_budget // replicas - HEALTH_CONNECTIONS_PER_REPLICA
            if share < 1:
                raise UserError(
                    f"profile '{name}' cannot fit {replicas} replicas into the app budget of "
                    f"{budget.app_budget} connections: use --replicas "
                    f"{budget.app_budget // (1 + HEALTH_CONNECTIONS_PER_REPLICA)} or fewer"
                )
            pool_max = min(share, profile.max_per_replica_cap or share)
        else:
            pool_max = profile.max_per_replica
        pool = PoolSettings(
            min=min(profile.min, pool_max),
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
            role_connection_limit=budget.app_budget if profile.role_limit_from_budget else -1,
        )
        # The whole point of a budget-enforcing profile: refuse rather than exceed it.
        if profile.enforces_budget and not resolved.fits_budget:
            raise UserError(
                f"profile '{name}': {replicas} replicas x (pool max {pool_max} + 1 health check) "
                f"= {resolved.app_connections_max} exceeds the app budget {budget.app_budget}"
            )
        return resolved


def load_profiles(path: Path | None = None) -> Profiles:
    """Read and validate profiles.yaml; any mistake in it is a UserError naming the key."""
    path = path or default_profiles_path()
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise UserError(f"profiles file {path} not found (set {PROFILES_ENV})") from exc
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML: {exc}") from exc
    reader = _Reader(path)
    root = reader.mapping(data, "")
    budget = _read_budget(reader, reader.mapping(root.get("postgres"), "postgres"))
    raw_profiles = reader.mapping(root.get("profiles"), "profiles")
    if not raw_profiles:
        raise UserError(f"{path}: 'profiles' is empty")
    profiles = {
        str(name): _read_profile(reader, str(name), reader.mapping(raw, f"profiles.{name}"))
        for name, raw in raw_profiles.items()
    }
    return Profiles(budget=budget, profiles=profiles)


def _read_budget(reader: _Reader, raw: dict[str, Any]) -> Budget:
    observers_raw = reader.mapping(raw.get("observer_slots"), "postgres.observer_slots")
    budget = Budget(
        max_connections=reader.integer(raw, "postgres", "max_connections", minimum=1),
        superuser_reserved_connections=reader.integer(
            raw, "postgres", "superuser_reserved_connections", minimum=0
        ),
        observer_slots={
            str(key): reader.integer(observers_raw, "postgres.observer_slots", key, minimum=0)
            for key in observers_raw
        },
    )
    if budget.superuser_reserved_connections >= budget.max_connections:
        raise UserError(
            f"{reader.path}: postgres.superuser_reserved_connections must be below max_connections"
        )
    if budget.app_budget < 1:
        raise UserError(
            f"{reader.path}: no app budget left: max_connections {budget.max_connections} - "
            f"reserved {budget.superuser_reserved_connections} - observers {budget.observers} "
            f"= {budget.app_budget}"
        )
    return budget


def _read_profile(reader: _Reader, name: str, raw: dict[str, Any]) -> Profile:
    where = f"profiles.{name}"
    pool = reader.mapping(raw.get("pool"), f"{where}.pool")
    pool_where = f"{where}.pool"
    per_replica = pool.get("max_per_replica")
    max_per_replica = (
        None
        if per_replica == BUDGET
        else reader.integer(pool, pool_where, "max_per_replica", minimum=1)
    )
    cap = (
        reader.integer(pool, pool_where, "max_per_replica_cap", minimum=1)
        if "max_per_replica_cap" in pool
        else None
    )
    role_limit = raw.get("role_connection_limit", "none")
    if role_limit not in (BUDGET, "none"):
        raise UserError(f"{reader.path}: {where}.role_connection_limit must be 'budget' or 'none'")
    timeout = pool.get("timeout_s")
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise UserError(f"{reader.path}: {pool_where}.timeout_s must be a positive number")
    return Profile(
        name=name,
        description=str(raw.get("description", "")).strip(),
        max_per_replica=max_per_replica,
        max_per_replica_cap=cap,
        min=reader.integer(pool, pool_where, "min", minimum=0),
        timeout_s=float(timeout),
        max_waiting=reader.integer(pool, pool_where, "max_waiting", minimum=0),
        statement_timeout_ms=reader.integer(pool, pool_where, "statement_timeout_ms", minimum=0),
        role_limit_from_budget=role_limit == BUDGET,
    )


@dataclass(frozen=True)
class _Reader:
    path: Path

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise UserError(f"{self.path}: '{where or 'top level'}' must be a mapping")
        return value

    def integer(self, raw: dict[str, Any], where: str, key: str, minimum: int) -> int:
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise UserError(f"{self.path}: {where}.{key} must be an integer >= {minimum}")
        return value
