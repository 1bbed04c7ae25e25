"""Reading environments/docker/compose.yaml into the containers the driver creates.

The driver talks to the Docker API, not to a compose CLI, so it understands the
part of the Compose format the hub stack's file uses: image, build (context,
dockerfile, args), entrypoint, command, environment, ports, volumes, networks
with aliases, healthcheck and depends_on, `${VAR:-default}` interpolation and
override files laid over the base (mappings merged, everything else replaced),
as `docker compose -f a -f b` does. Anything else in a service is refused with
a message naming it, so the file cannot silently drift from what runs.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hubchaos.errors import UserError
from hubchaos.stack.environments import environment_path

COMPOSE_FILE = "compose.yaml"
OFFLINE_OVERRIDE = "compose.offline.yaml"

REPLICA_PREFIX = "app-"
_KNOWN_KEYS = frozenset(
    {
        "image", "build", "entrypoint", "command", "environment", "ports", "volumes",
        "networks", "healthcheck", "depends_on", "restart", "init", "stop_signal",
    }
)  # fmt: skip
_VARIABLE = re.compile(
    r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<default>[^}]*))?\})"
)
_PORT = re.compile(r"^(?P<ip>[0-9.]+):(?P<host>\d+):(?P<container>\d+)(?:/tcp)?$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_NS = {"ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}


@dataclass(frozen=True)
class Build:
    context: Path
    dockerfile: str
    args: dict[str, str]


@dataclass(frozen=True)
class Port:
    host_ip: str
    host_port: int
    container_port: int


@dataclass(frozen=True)
class Mount:
    source: Path
    target: str
    read_only: bool


@dataclass(frozen=True)
class ServiceSpec:
    """One container of the stack, interpolated and with paths resolved."""

    name: str
    image: str
    build: Build | None
    entrypoint: list[str] | None
    command: list[str] | None
    environment: dict[str, str]
    ports: list[Port]
    mounts: list[Mount]
    aliases: list[str]
    healthcheck: dict[str, Any] | None  # Docker API form (nanoseconds), None: disabled
    depends_on: dict[str, str] = field(default_factory=dict)  # service -> condition
    init: bool = False  # Docker's init as PID 1 (forwards signals, reaps children)
    stop_signal: str | None = None

    @property
    def is_replica(self) -> bool:
        return self.name.startswith(REPLICA_PREFIX)


def compose_dir() -> Path:
    """environments/docker: the compose files and the images' Dockerfiles."""
    return environment_path("docker")


def compose_files(offline: bool) -> list[Path]:
    """compose.yaml, with compose.offline.yaml laid over it for --offline."""
    names = [COMPOSE_FILE, OFFLINE_OVERRIDE] if offline else [COMPOSE_FILE]
    return [compose_dir() / name for name in names]


def load_compose(
    files: list[Path], variables: Mapping[str, str], replicas: int
) -> list[ServiceSpec]:
    """The stack's services from `files` (base first), with `replicas` app replicas."""
    merged: dict[str, Any] = {}
    for path in files:
        merged = _merge(merged, _read(path))
    services = merged.get("services")
    if not isinstance(services, dict) or not services:
        raise UserError(f"{files[0]}: no services defined")
    services = _with_replicas(services, replicas, files[0])
    base_dir = files[0].parent
    specs = []
    for name, raw in services.items():
        if not isinstance(raw, dict):
            raise UserError(f"{files[0]}: service {name} must be a mapping")
        unknown = sorted(set(raw) - _KNOWN_KEYS)
        if unknown:
            raise UserError(
                f"{files[0]}: service {name} uses {', '.join(unknown)}, which the hubchaos "
                "docker driver does not support"
            )
        specs.append(_spec(str(name), _interpolate(raw, variables), base_dir))
    return specs


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise UserError(f"compose file {path} is missing: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise UserError(f"{path}: a compose file must be a mapping")
    return data


def _merge(base: Any, override: Any) -> Any:
    """Compose's rule for override files: mappings merge, anything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


def _with_replicas(services: dict[str, Any], replicas: int, path: Path) -> dict[str, Any]:
    """Keep app-1..app-N: drop the file's surplus replicas, add copies of the last one."""
    numbered = sorted(
        (int(name[len(REPLICA_PREFIX) :]), name)
        for name in services
        if name.startswith(REPLICA_PREFIX) and name[len(REPLICA_PREFIX) :].isdigit()
    )
    if not numbered:
        raise UserError(f"{path}: no app replica services (app-1, app-2, ...)")
    result = {
        name: raw
        for name, raw in services.items()
        if not (name.startswith(REPLICA_PREFIX) and name[len(REPLICA_PREFIX) :].isdigit())
    }
    by_number = dict(numbered)
    template_number, template_name = numbered[-1]
    for index in range(1, replicas + 1):
        name = f"{REPLICA_PREFIX}{index}"
        if index in by_number:
            result[name] = services[by_number[index]]
        else:
            result[name] = _renumber(services[template_name], template_number, index)
    return result


def _renumber(value: Any, old: int, new: int) -> Any:
    """A copy of replica `old` as replica `new`: names (app-2) and port variables (APP_2_)."""
    if isinstance(value, dict):
        return {key: _renumber(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_renumber(item, old, new) for item in value]
    if isinstance(value, str):
        value = re.sub(rf"\b{REPLICA_PREFIX}{old}\b", f"{REPLICA_PREFIX}{new}", value)
        return value.replace(f"_APP_{old}_", f"_APP_{new}_")
    return value


def _interpolate(value: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group("name"), match.group("default")
        found = variables.get(name)
        if found not in (None, ""):
            return str(found)
        if (match.group("op") or "").endswith("?"):  # ${NAME:?why}: required, no default
            raise UserError(f"compose variable {name} is not set: {default}")
        return default if default is not None else ""

    return _VARIABLE.sub(substitute, value)


def _spec(name: str, raw: dict[str, Any], base_dir: Path) -> ServiceSpec:
    image = raw.get("image")
    if not isinstance(image, str) or not image:
        raise UserError(f"compose service {name} has no image")
    networks = raw.get("networks") or []
    aliases: list[str] = []
    if isinstance(networks, dict):
        for settings in networks.values():
            aliases.extend((settings or {}).get("aliases") or [])
    return ServiceSpec(
        name=name,
        image=image,
        build=_build(raw.get("build"), base_dir),
        entrypoint=_argv(raw.get("entrypoint")),
        command=_argv(raw.get("command")),
        environment={str(k): "" if v is None else str(v) for k, v in _env(raw).items()},
        ports=[_port(name, item) for item in raw.get("ports") or []],
        mounts=[_mount(name, item, base_dir) for item in raw.get("volumes") or []],
        aliases=[str(alias) for alias in aliases],
        healthcheck=_healthcheck(raw.get("healthcheck")),
        depends_on=_depends_on(raw.get("depends_on")),
        init=bool(raw.get("init", False)),
        stop_signal=str(raw["stop_signal"]) if raw.get("stop_signal") else None,
    )


def _build(raw: Any, base_dir: Path) -> Build | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"context": raw}
    args = raw.get("args") or {}
    return Build(
        context=(base_dir / str(raw.get("context", "."))).resolve(),
        dockerfile=str(raw.get("dockerfile", "Dockerfile")),
        args={str(k): str(v) for k, v in args.items()},
    )


def _argv(raw: Any) -> list[str] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw.split()
    return [str(item) for item in raw]


def _env(raw: dict[str, Any]) -> dict[str, Any]:
    env = raw.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return dict(env)


def _port(service: str, raw: Any) -> Port:
    match = _PORT.match(str(raw))
    if match is None:
        raise UserError(
            f"compose service {service}: port {raw!r} must be 'IP:HOST:CONTAINER' "
            "(published ports are bound to 127.0.0.1 explicitly)"
        )
    return Port(match["ip"], int(match["host"]), int(match["container"]))


def _mount(service: str, raw: Any, base_dir: Path) -> Mount:
    parts = str(raw).split(":")
    if len(parts) not in (2, 3) or not parts[0].startswith((".", "/")):
        raise UserError(f"compose service {service}: volume {raw!r} must be a bind mount")
    source = Path(parts[0])
    if not source.is_absolute():
        source = (base_dir / source).resolve()
    return Mount(source, parts[1], read_only=len(parts) == 3 and parts[2] == "ro")


def _healthcheck(raw: Any) -> dict[str, Any] | None:
    if not raw or raw.get("disable"):
        return None
    check: dict[str, Any] = {"test": [str(item) for item in raw["test"]]}
    for key in ("interval", "timeout", "start_period"):
        if key in raw:
            check[key] = duration_ns(str(raw[key]))
    if "retries" in raw:
        check["retries"] = int(raw["retries"])
    return check


def duration_ns(text: str) -> int:
    """A compose duration ("2s", "1m30s", "500ms") in nanoseconds."""
    pieces = _DURATION.findall(text)
    if not pieces or "".join(number + unit for number, unit in pieces) != text:
        raise UserError(f"not a compose duration: {text!r}")
    return int(sum(float(number) * _UNIT_NS[unit] for number, unit in pieces))


def _depends_on(raw: Any) -> dict[str, str]:
    if not raw:
        return {}
    if isinstance(raw, list):
        return {str(name): "service_started" for name in raw}
    return {
        str(name): str((cond or {}).get("condition", "service_started"))
        for name, cond in raw.items()
    }
