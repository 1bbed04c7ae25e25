"""The pool budget arithmetic of environments/local/profiles.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubchaos.errors import UserError
from hubchaos.stack.profiles import MAX_REPLICAS, load_profiles


def test_shipped_budget_leaves_room_for_observers_and_reserved_slots() -> None:
    budget = load_profiles().budget
    assert budget.max_connections == 60
    assert budget.superuser_reserved_connections == 3
    assert budget.observers == sum(budget.observer_slots.values()) > 0
    assert budget.app_budget == 60 - 3 - budget.observers


@pytest.mark.parametrize("replicas", range(1, MAX_REPLICAS + 1))
def test_fixed_profile_fits_the_budget_at_every_replica_count(replicas: int) -> None:
    profiles = load_profiles()
    fixed = profiles.resolve("fixed", replicas)
    # each replica: its pool plus the health checker's one extra connection
    assert fixed.pool.max == min(20, profiles.budget.app_budget // replicas - 1)
    assert fixed.replicas * (fixed.pool.max + 1) <= profiles.budget.app_budget
    assert fixed.fits_budget
    assert 0 < fixed.pool.min <= fixed.pool.max
    assert fixed.pool.max_waiting > 0  # a bounded queue
    assert fixed.pool.timeout_s <= 2
    assert 0 < fixed.pool.statement_timeout_ms <= 2000
    assert fixed.role_connection_limit == profiles.budget.app_budget


def test_incident_profile_reproduces_the_misconfiguration() -> None:
    profiles = load_profiles()
    incident = profiles.resolve("incident", 2)
    assert incident.pool.max == 100
    assert incident.pool.max_waiting == 0  # unbounded
    assert incident.pool.timeout_s >= 30
    assert incident.pool.statement_timeout_ms == 0
    assert incident.role_connection_limit == -1
    # The whole point: the pools can ask for more than PostgreSQL can give.
    assert incident.app_connections_max > profiles.budget.non_superuser_slots
    assert not incident.fits_budget


def test_pool_env_uses_the_learninghub_variable_names() -> None:
    env = load_profiles().resolve("fixed", 2).pool.env()
    assert env == {
        "LEARNINGHUB_POOL_MIN": "2",
        "LEARNINGHUB_POOL_MAX": "20",
        "LEARNINGHUB_POOL_TIMEOUT": "1.5",
        "LEARNINGHUB_POOL_MAX_WAITING": "40",
        "LEARNINGHUB_STATEMENT_TIMEOUT_MS": "2000",
    }


@pytest.mark.parametrize(
    ("profile", "replicas", "message"),
    [
        ("nope", 2, "unknown profile 'nope': choose one of fixed, incident"),
        ("fixed", 0, "--replicas must be at least 1 (got 0)"),
        ("incident", -3, "--replicas must be at least 1 (got -3)"),
        ("fixed", MAX_REPLICAS + 1, f"--replicas must be at most {MAX_REPLICAS}"),
    ],
)
def test_bad_requests_are_refused_with_one_line(profile: str, replicas: int, message: str) -> None:
    with pytest.raises(UserError) as info:
        load_profiles().resolve(profile, replicas)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


PROFILE_TEMPLATE = """
postgres:
  max_connections: {max_connections}
  superuser_reserved_connections: 3
  observer_slots: {{exporter: 1, probes: 2}}
profiles:
  fixed:
    pool: {{max_per_replica: budget, min: 2, timeout_s: 1, max_waiting: 5,
            statement_timeout_ms: 100}}
    role_connection_limit: budget
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profiles.yaml"
    path.write_text(text)
    return path


def test_an_impossible_fixed_config_is_refused(tmp_path: Path) -> None:
    profiles = load_profiles(_write(tmp_path, PROFILE_TEMPLATE.format(max_connections=10)))
    assert profiles.budget.app_budget == 4
    assert profiles.resolve("fixed", 2).pool.max == 1
    assert profiles.resolve("fixed", 1).pool.max == 3  # no cap: the budget less the health check
    with pytest.raises(UserError, match="cannot fit 3 replicas into the app budget of 4"):
        profiles.resolve("fixed", 3)


def test_a_budget_with_no_room_for_the_app_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no app budget left"):
        load_profiles(_write(tmp_path, PROFILE_TEMPLATE.format(max_connections=6)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "'top level' must be a mapping"),
        ("postgres: {}\nprofiles: {}", "postgres.observer_slots' must be a mapping"),
        (PROFILE_TEMPLATE.format(max_connections="lots"), "postgres.max_connections must be"),
        (PROFILE_TEMPLATE.format(max_connections=60).replace("timeout_s: 1", "timeout_s: -1"),
         "profiles.fixed.pool.timeout_s must be a positive number"),
        (PROFILE_TEMPLATE.format(max_connections=60).replace("role_connection_limit: budget",
                                                             "role_connection_limit: 7"),
         "role_connection_limit must be 'budget' or 'none'"),
        ("a: [", "not valid YAML"),
    ],
)  # fmt: skip
def test_mistakes_in_profiles_yaml_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("[", r"\[")):
        load_profiles(_write(tmp_path, text))
