"""Does a resolved profile fit PostgreSQL? The arithmetic, printed line by line.

The numbers and the sums are hubchaos.stack.profiles' own (ResolvedProfile,
Budget): the local stack, the docker stack and a Kubernetes overlay are all
checked by the same code. Two limits apply:

  replicas x (pool max + health check) + observer slots
      <= max_connections - superuser_reserved_connections
  replicas x (pool max + health check) <= the app role's CONNECTION LIMIT (if set)
"""

from __future__ import annotations

from dataclasses import dataclass

from hubchaos.stack.profiles import HEALTH_CONNECTIONS_PER_REPLICA, ResolvedProfile

__all__ = ["BudgetCase"]


@dataclass(frozen=True)
class BudgetCase:
    """One thing to check: where it came from, and the profile applied to its replicas."""

    source: str  # "overlay environments/kubernetes/overlays/fixed"
    replicas_from: str  # what set the replica count, e.g. "HorizontalPodAutoscaler maxReplicas"
    resolved: ResolvedProfile

    @property
    def app_connections(self) -> int:
        return self.resolved.app_connections_max

    @property
    def role_limit_holds(self) -> bool:
        limit = self.resolved.role_connection_limit
        return limit < 0 or self.app_connections <= limit

    @property
    def fits(self) -> bool:
        return self.resolved.fits_budget and self.role_limit_holds

    def lines(self) -> list[str]:
        resolved, budget = self.resolved, self.resolved.budget
        pool = resolved.pool.max
        slots = budget.non_superuser_slots
        total = self.app_connections + budget.observers
        observers = " + ".join(f"{name} {count}" for name, count in budget.observer_slots.items())
        lines = [
            f"{self.source}",
            f"  app connections  {resolved.replicas} replicas ({self.replicas_from}) x "
            f"(pool max {pool} + {HEALTH_CONNECTIONS_PER_REPLICA} health check) "
            f"= {self.app_connections}",
            f"  observer slots   {observers or 'none'} = {budget.observers}",
            f"  postgres slots   max_connections {budget.max_connections} - "
            f"superuser_reserved_connections {budget.superuser_reserved_connections} = {slots}",
        ]
        if total <= slots:
            lines.append(f"  total            {self.app_connections} + {budget.observers} = "
                         f"{total} <= {slots}: fits ({slots - total} spare)")  # fmt: skip
        else:
            lines.append(f"  total            {self.app_connections} + {budget.observers} = "
                         f"{total} > {slots}: DOES NOT FIT ({total - slots} over)")  # fmt: skip
        lines.append(f"  role limit       {self._role_limit()}")
        verdict = "fits" if self.fits else f"DOES NOT FIT: {self._advice()}"
        lines.append(f"  verdict          {verdict}")
        return lines

    def _role_limit(self) -> str:
        limit, app = self.resolved.role_connection_limit, self.app_connections
        if limit < 0:
            return "none: PostgreSQL lets the app role take every slot"
        if self.role_limit_holds:
            return f"{app} <= CONNECTION LIMIT {limit}: fits"
        return f"{app} > CONNECTION LIMIT {limit}: DOES NOT FIT (logins refused with 53300)"

    def _advice(self) -> str:
        resolved = self.resolved
        room = resolved.budget.app_budget
        limit = resolved.role_connection_limit
        if limit >= 0:
            room = min(room, limit)
        per_replica = resolved.pool.max + HEALTH_CONNECTIONS_PER_REPLICA
        most_replicas = max(room, 0) // per_replica
        largest_pool = max(room, 0) // resolved.replicas - HEALTH_CONNECTIONS_PER_REPLICA
        options = []
        if largest_pool >= 1:
            options.append(f"pool max <= {largest_pool} at {resolved.replicas} replicas")
        if most_replicas >= 1:
            options.append(f"at most {most_replicas} replicas at pool max {resolved.pool.max}")
        if not options:
            return f"the app budget of {room} connections holds not even one replica"
        return " or ".join(options)
