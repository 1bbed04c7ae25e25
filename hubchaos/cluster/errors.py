"""The local cluster's error: a step that could not be done, named with what to do."""

from __future__ import annotations

from hubchaos.errors import HubchaosError

__all__ = ["ClusterError"]


class ClusterError(HubchaosError):
    """The local cluster could not be built, started, inspected or stopped."""
