"""Runtime settings, read only from LEARNINGHUB_* environment variables.

Named profiles (fixed, incident) live with the stack driver; the app only
knows the resulting values.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from learninghub.errors import ConfigError

DEFAULT_DSN = "postgresql://learninghub:learninghub@127.0.0.1:15433/learninghub"

T = TypeVar("T", int, float)


@dataclass(frozen=True)
class Settings:
    dsn: str = DEFAULT_DSN
    pool_name: str = "app-1"
    application_name: str = "learninghub-app-1"
    pool_min: int = 2
    pool_max: int = 10
    pool_timeout: float = 5.0  # seconds a request waits for a connection before a 503
    pool_max_waiting: int = 0  # 0 = unbounded queue
    statement_timeout_ms: int = 0  # 0 = no server-side limit
    connect_timeout: float = 5.0  # seconds for one login attempt
    log_level: str = "info"

    def __post_init__(self) -> None:
        if self.pool_max < 1:
            raise ConfigError(f"LEARNINGHUB_POOL_MAX must be at least 1, got {self.pool_max}")
        if not 0 <= self.pool_min <= self.pool_max:
            raise ConfigError(
                f"LEARNINGHUB_POOL_MIN must be between 0 and LEARNINGHUB_POOL_MAX "
                f"({self.pool_max}), got {self.pool_min}"
            )
        if self.pool_timeout <= 0:
            raise ConfigError(
                f"LEARNINGHUB_POOL_TIMEOUT must be > 0 seconds, got {self.pool_timeout}"
            )
        if self.pool_max_waiting < 0:
            raise ConfigError(
                f"LEARNINGHUB_POOL_MAX_WAITING must be >= 0 (0 = unbounded), "
                f"got {self.pool_max_waiting}"
            )
        if self.statement_timeout_ms < 0:
            raise ConfigError(
                f"LEARNINGHUB_STATEMENT_TIMEOUT_MS must be >= 0 (0 = none), "
                f"got {self.statement_timeout_ms}"
            )
        if self.connect_timeout < 1:
            raise ConfigError(
                f"LEARNINGHUB_CONNECT_TIMEOUT must be >= 1 second, got {self.connect_timeout}"
            )
        if self.log_level.lower() not in ("debug", "info", "warning", "error"):
            raise ConfigError(
                "LEARNINGHUB_LOG_LEVEL must be debug, info, warning or error, "
                f"got {self.log_level!r}"
            )

    @property
    def statement_timeout(self) -> float | None:
        """Server-side statement limit in seconds, None when unlimited."""
        return self.statement_timeout_ms / 1000 if self.statement_timeout_ms else None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        return cls(
            dsn=env.get("LEARNINGHUB_DSN", defaults.dsn),
            pool_name=env.get("LEARNINGHUB_POOL_NAME", defaults.pool_name),
            application_name=env.get("LEARNINGHUB_APPLICATION_NAME", defaults.application_name),
            pool_min=_number(env, "LEARNINGHUB_POOL_MIN", int, defaults.pool_min),
            pool_max=_number(env, "LEARNINGHUB_POOL_MAX", int, defaults.pool_max),
            pool_timeout=_number(env, "LEARNINGHUB_POOL_TIMEOUT", float, defaults.pool_timeout),
            pool_max_waiting=_number(
                env, "LEARNINGHUB_POOL_MAX_WAITING", int, defaults.pool_max_waiting
            ),
            statement_timeout_ms=_number(
                env, "LEARNINGHUB_STATEMENT_TIMEOUT_MS", int, defaults.statement_timeout_ms
            ),
            connect_timeout=_number(
                env, "LEARNINGHUB_CONNECT_TIMEOUT", float, defaults.connect_timeout
            ),
            log_level=env.get("LEARNINGHUB_LOG_LEVEL", defaults.log_level),
        )


def _number(env: Mapping[str, str], key: str, kind: Callable[[str], T], default: T) -> T:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(
            f"{key} must be {'an integer' if kind is int else 'a number'}, got {raw!r}"
        ) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key} must be a finite number, got {raw!r}")
    return value
