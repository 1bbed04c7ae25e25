"""Every place an experiment sends traffic to, read from the file before it runs.

Targets come from three places, after chaoslib's configuration and secret
substitution (so `${hubchaos_app_url}/healthz` is checked as the URL it becomes):

- `http` providers: their URL (chaoslib's own HTTP client, no hubchaos guard);
- `python` providers, of any module: arguments named `url`, `dsn`, `host` or
  ending in `_url`, `_urls`, `_dsn`, `_host` (a URL starting with "/" is relative
  to the app URL, checked below);
- the configuration: every key ending in one of those suffixes, and, when a
  hubchaos activity or control runs, every stack endpoint hubchaos would fall
  back to (configuration, then HUBCHAOS_* environment, then the local default).

A value still holding `${...}` after substitution comes from dynamic
configuration, known only once the run has begun: it is left to the
activities' own guard.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chaoslib import substitute

from hubchaos.activity.settings import DEFAULTS, REPLICAS_KEY, app_replica_urls, setting
from hubchaos.reach.libpq import effective_hosts

__all__ = ["Target", "activities", "experiment_targets", "hosts_of", "uses_hubchaos"]

_SUFFIXES = ("_url", "_urls", "_dsn", "_host")
_NAMES = frozenset({"url", "urls", "dsn", "host"})
_POSTGRES_SCHEMES = ("postgres://", "postgresql://")


@dataclass(frozen=True)
class Target:
    where: str  # "activity 'flood' argument dsn", "configuration hubchaos_db_dsn"
    kind: str  # url | dsn | host
    value: str


def _kind(name: str) -> str | None:
    lowered = name.lower()
    if lowered in _NAMES or lowered.endswith(_SUFFIXES):
        if lowered.endswith("dsn"):
            return "dsn"
        if lowered.endswith("host"):
            return "host"
        return "url"
    return None


def _values(value: Any) -> list[str]:
    """A target value: a string, a comma-separated string of URLs, or a list of them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value if isinstance(item, str | int | float)]
    return []


def _named(where: str, name: str, value: Any) -> Iterator[Target]:
    kind = _kind(name)
    if kind is None:
        return
    for text in _values(value):
        items = text.split(",") if name.lower().endswith("urls") else [text]  # a URL list
        for item in (item.strip() for item in items):
            # "/path" is relative to the app URL (checked itself); "${...}" left after
            # substitution is dynamic configuration, known only once the run has begun
            if item and not item.startswith("/") and "${" not in item:
                yield Target(where, kind, item)


def uses_hubchaos(experiment: Mapping[str, Any]) -> bool:
    """True when a hubchaos activity or control runs (they fall back to the stack's endpoints)."""
    providers = [activity.get("provider") or {} for activity in activities(experiment)]
    providers += [control.get("provider") or {} for control in experiment.get("controls") or []]
    return any(str(p.get("module", "")).startswith("hubchaos.") for p in providers)


def activities(experiment: Mapping[str, Any]) -> list[dict[str, Any]]:
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    found = list(hypothesis.get("probes") or [])
    found += list(experiment.get("method") or []) + list(experiment.get("rollbacks") or [])
    return [activity for activity in found if isinstance(activity, dict)]


def experiment_targets(
    experiment: Mapping[str, Any], configuration: Mapping[str, Any], secrets: Mapping[str, Any]
) -> Iterator[Target]:
    """Every target of `experiment`, with configuration and secrets substituted."""

    for activity in activities(experiment):
        provider = activity.get("provider") or {}
        where = f"activity '{activity.get('name', '?')}'"
        if provider.get("type") == "http" and provider.get("url"):
            url = substitute(provider["url"], dict(configuration), dict(secrets))
            yield from _named(where, "url", url)
        elif provider.get("type") == "python":
            arguments = substitute(
                dict(provider.get("arguments") or {}), dict(configuration), dict(secrets)
            )
            for name, value in (arguments or {}).items():
                yield from _named(f"{where} argument {name}", name, value)
    for key, value in configuration.items():
        yield from _named(f"configuration {key}", key, value)
    if uses_hubchaos(experiment):
        config = dict(configuration)
        for key in DEFAULTS:
            yield from _named(f"hubchaos setting {key}", key, setting(key, config))
        replicas = app_replica_urls(None, config)
        yield from _named(f"hubchaos setting {REPLICAS_KEY}", REPLICAS_KEY, replicas)


def hosts_of(target: Target) -> list[str]:
    """The hosts a target reaches (libpq's effective hosts for a DSN); empty: a local socket.

    Raises ValueError when the target is malformed.
    """

    value = target.value.strip()
    if target.kind == "dsn" or value.lower().startswith(_POSTGRES_SCHEMES):
        return effective_hosts(value)
    if target.kind == "host":
        return [value]
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not a URL: {value!r}")
    return [parts.hostname or ""]
