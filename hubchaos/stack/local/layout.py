"""Where everything of one local stack lives inside its state directory."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def postgres(self) -> Path:
        """PostgresCluster base dir; survives `down` (not `down --purge`)."""
        return self.root / "postgres"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    @property
    def prometheus(self) -> Path:
        return self.root / "prometheus"

    @property
    def alertmanager(self) -> Path:
        return self.root / "alertmanager"

    @property
    def receiver(self) -> Path:
        return self.root / "receiver"

    @property
    def ports_file(self) -> Path:
        """The ports of the stack being started, written before anything is spawned."""
        return self.root / "ports.json"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def fresh_observation_dirs(self) -> None:
        """Metrics, silences and notifications of an earlier run must not leak into this one."""
        layout = self
        for directory in (
            layout.prometheus / "data",
            layout.alertmanager / "data",
            layout.receiver,
        ):
            shutil.rmtree(directory, ignore_errors=True)
        for directory in (
            layout.prometheus, layout.alertmanager, layout.receiver, layout.logs, layout.pids,
        ):  # fmt: skip
            directory.mkdir(parents=True, exist_ok=True)
