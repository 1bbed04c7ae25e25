"""Prometheus and Alertmanager configuration for the hub stack.

The YAML files in environments/monitoring are the single source: as written
they configure the local stack on its default ports, and the functions here
load them as templates and fill in the endpoints of the stack being started.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from hubchaos.errors import UserError
from hubchaos.stack.environments import ENVIRONMENTS_ENV, environment_path

__all__ = [
    "monitoring_dir",
    "pool_name",
    "render_alertmanager_config",
    "render_prometheus_config",
    "rules_dir",
    "rules_files",
    "webhook_receiver_program",
]

_RELATIVE_DIR = Path("environments") / "monitoring"


def monitoring_dir() -> Path:
    """environments/monitoring (see hubchaos.stack.environments for how it is found)."""
    return environment_path("monitoring")


def rules_dir() -> Path:
    return monitoring_dir() / "rules"


def webhook_receiver_program() -> Path:
    """The webhook receiver the stacks run (a standard-library script of this environment)."""
    return monitoring_dir() / "webhook_receiver.py"


_APP_JOB = "learninghub"
_EXPORTER_JOB = "postgres-exporter"
_PROXY_JOB = "toxiproxy"
_ALERTMANAGER_JOB = "alertmanager"

# Prometheus duration syntax, e.g. "1s", "500ms", "1m30s".
_DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-_\[\]:]+:\d{1,5}$")


def rules_files() -> list[str]:
    """Absolute paths of the alert rule files, in a stable order."""
    directory = rules_dir()
    files = sorted(str(path) for path in directory.glob("*.yml"))
    if not files:
        raise UserError(
            f"no alert rules found in {directory}: set {ENVIRONMENTS_ENV} to the "
            "environments/ directory of a hubchaos checkout"
        )
    return files


def pool_name(replica: int) -> str:
    """The `pool` label (and LEARNINGHUB_POOL_NAME) of the 1-based replica number."""
    if replica < 1:
        raise ValueError(f"replica numbers start at 1, got {replica}")
    return f"app-{replica}"


def render_prometheus_config(
    *,
    app_targets: list[str],
    exporter_target: str,
    proxy_target: str,
    alertmanager_target: str,
    rules_files: list[str],
    scrape_interval: str = "1s",
    evaluation_interval: str = "1s",
) -> str:
    """prometheus.yml text for a stack; targets are "host:port".

    App replicas are labelled `pool` = app-1, app-2, ... in the order given,
    matching LEARNINGHUB_POOL_NAME of each replica.
    """
    if not app_targets:
        raise ValueError("at least one app target is needed")
    for target in [*app_targets, exporter_target, proxy_target, alertmanager_target]:
        _check_target(target)
    for interval in (scrape_interval, evaluation_interval):
        _check_duration(interval)
    if not rules_files:
        raise ValueError("at least one rules file is needed")

    config = _load_template("prometheus.yml")
    config["global"].update(
        scrape_interval=scrape_interval,
        # The longest timeout Prometheus accepts: a busy app gets the whole interval.
        scrape_timeout=scrape_interval,
        evaluation_interval=evaluation_interval,
    )
    config["rule_files"] = [str(Path(path).resolve()) for path in rules_files]
    config["alerting"]["alertmanagers"] = [{"static_configs": [{"targets": [alertmanager_target]}]}]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    jobs[_APP_JOB]["static_configs"] = [
        {"targets": [target], "labels": {"pool": pool_name(number)}}
        for number, target in enumerate(app_targets, start=1)
    ]
    jobs[_EXPORTER_JOB]["static_configs"] = [{"targets": [exporter_target]}]
    jobs[_PROXY_JOB]["static_configs"] = [{"targets": [proxy_target]}]
    jobs[_ALERTMANAGER_JOB]["static_configs"] = [{"targets": [alertmanager_target]}]
    return _dump(config, "render_prometheus_config")


def render_alertmanager_config(*, webhook_url: str) -> str:
    """alertmanager.yml text routing every alert to the webhook receiver at `webhook_url`."""
    parts = urlsplit(webhook_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"webhook_url must be an http(s) URL, got {webhook_url!r}")
    config = _load_template("alertmanager.yml")
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            webhook["url"] = webhook_url
    return _dump(config, "render_alertmanager_config")


def _check_target(target: str) -> None:
    if not _HOST_PORT.match(target):
        raise ValueError(f"scrape target must be 'host:port', got {target!r}")


def _check_duration(value: str) -> None:
    if not _DURATION.match(value):
        raise ValueError(f"not a Prometheus duration (like '1s' or '500ms'): {value!r}")


def _load_template(name: str) -> dict[str, Any]:
    path = monitoring_dir() / name
    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise UserError(
            f"monitoring template {path} is missing: set {ENVIRONMENTS_ENV} to the "
            "environments/ directory of a hubchaos checkout"
        ) from exc
    if not isinstance(loaded, dict):
        raise UserError(f"monitoring template {path} is not a YAML mapping")
    return loaded


def _dump(config: dict[str, Any], renderer: str) -> str:
    header = (
        f"# Generated by hubchaos.stack.monitoring.{renderer}; "
        f"edit the template in {_RELATIVE_DIR}.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
