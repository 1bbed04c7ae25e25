"""The app's long-lived parts, reachable from every request."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from learninghub.database import Database
from learninghub.health import DatabaseHealth
from learninghub.metrics import HubMetrics
from learninghub.settings import Settings


@dataclass(frozen=True)
class Hub:
    settings: Settings
    metrics: HubMetrics
    database: Database
    health: DatabaseHealth


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub
