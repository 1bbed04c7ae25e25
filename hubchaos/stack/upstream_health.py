"""A proxy of the stack is healthy only when its upstream is: `hub_web` answers
/healthz *through* the proxy (so a dead replica behind it shows), `hub_db`'s
PostgreSQL accepts TCP connections. Faults the proxy itself carries (toxics,
`enabled: false`) are reported by `hubchaos status` from the fault ledger's
server view, not here."""

from __future__ import annotations

from hubchaos.stack.ports import is_free
from hubchaos.stack.readiness import http_check
from hubchaos.stack.toxiproxy_setup import ProxySpec

__all__ = ["upstream_problem"]


def upstream_problem(spec: ProxySpec) -> str | None:
    """Why `spec`'s upstream is not serving, or None when it is."""
    if is_free(int(spec.upstream.rsplit(":", 1)[1])):
        return f"upstream {spec.upstream} is not listening"
    if spec.name == "hub_web":
        reason = http_check(f"http://{spec.listen}/healthz")()
        if reason is not None:
            return f"upstream {spec.upstream} through the proxy: {reason}"
    return None
