"""Database-side causes: the connection budget, the pools' arithmetic, an unreachable,
resetting or slow database. Each rule returns a Finding with its evidence, or None.

Confidences are ordinal, not probabilities: a cause the evidence proves
(PostgreSQL answered logins with 53300; pg_up read 0) ranks above one it only
suggests, and a consequence ranks below its cause.
"""

from __future__ import annotations

from hubchaos.diagnosis.causes import Finding
from hubchaos.diagnosis.evidence import Evidence, Injection, number

__all__ = [
    "app_pool_misconfigured",
    "db_connection_budget_exhausted",
    "db_connections_reset",
    "db_latency",
    "db_unreachable",
]

APP_PREFIX = "learninghub"  # application_name of every replica: learninghub-app-N
SLOW_QUERY_S = 0.1  # a dashboard query takes milliseconds; 100 ms at p95 is a slow path


def holders_at_peak(evidence: Evidence) -> tuple[float | None, dict[str, float]]:
    """PostgreSQL connections at their peak, and who held them (application/role)."""
    sample = evidence.peak_sample("db_connections")
    if sample is None:
        return None, {}
    holders = sample.get("db_holders") or {}
    ranked = dict(sorted(holders.items(), key=lambda item: -item[1]))
    return sample.get("db_connections"), ranked


def _holders_text(holders: dict[str, float], limit: int = 4) -> str:
    shown = [f"{name} {count:.0f}" for name, count in list(holders.items())[:limit]]
    return ", ".join(shown) if shown else "unknown (no per-application reading)"


def _app_share(holders: dict[str, float]) -> float:
    total = sum(holders.values())
    app = sum(n for name, n in holders.items() if name.startswith(APP_PREFIX))
    return app / total if total else 0.0


def _refusals(evidence: Evidence) -> tuple[float, list[Injection]]:
    """Logins PostgreSQL refused with 53300: the app's counter, and floods that saw them."""
    floods = [
        i
        for i in evidence.injected("flood_db_connections")
        if isinstance(i.output, dict) and (i.output.get("refusals_by_sqlstate") or {}).get("53300")
    ]
    return evidence.total("logins_refused_53300"), floods


def db_connection_budget_exhausted(evidence: Evidence) -> Finding | None:
    app_refused, floods = _refusals(evidence)
    if app_refused <= 0 and not floods:
        return None
    peak, holders = holders_at_peak(evidence)
    lines = []
    if app_refused > 0:
        lines.append(
            f"PostgreSQL refused about {max(app_refused, 1):.0f} login(s) of the app replicas "
            "with SQLSTATE 53300 (too many connections)"
        )
    for flood in floods:
        refused = flood.output["refusals_by_sqlstate"]["53300"]
        lines.append(f"{flood.name}: {refused} of its logins refused with 53300")
    if peak is not None:
        lines.append(f"at the peak {peak:.0f} connections, held by: {_holders_text(holders)}")
    lines += evidence.fired_lines("HubDBConnectionBudgetExhausted", "HubDBConnectionsNearLimit")
    top = next(iter(holders), None)
    who = f"; most are held by {top}" if top else ""
    # Someone other than the app holding the slots is the whole story; the app's own
    # pools holding them points at app-pool-misconfigured, which ranks above.
    confidence = 0.85 if app_refused > 0 else 0.7
    if holders and _app_share(holders) < 0.5:
        confidence = 0.88
    return Finding(
        "db-connection-budget-exhausted",
        confidence,
        f"PostgreSQL refused logins: the connection budget is exhausted{who}",
        lines,
    )


def app_pool_misconfigured(evidence: Evidence) -> Finding | None:
    capacity = evidence.peak("pool_max")
    budget = evidence.peak("db_budget")
    if capacity is None or budget is None or capacity <= budget:
        return None
    per_replica: dict[str, float] = {}
    for sample in evidence.during[-1:] or evidence.samples[-1:]:
        per_replica = sample.get("pool_max_by_replica") or {}
    arithmetic = (
        " + ".join(f"{name} {n:.0f}" for name, n in sorted(per_replica.items()))
        if per_replica
        else f"{capacity:.0f}"
    )
    lines = [
        f"replicas x pool max = {arithmetic} = {capacity:.0f} connections, more than the "
        f"{budget:.0f} PostgreSQL takes (max_connections - superuser reserved)"
    ]
    app_refused, _floods = _refusals(evidence)
    peak, holders = holders_at_peak(evidence)
    hit_wall = app_refused > 0 or (peak is not None and peak >= budget)
    if app_refused > 0:
        lines.append(
            f"PostgreSQL refused about {max(app_refused, 1):.0f} login(s) of the replicas (53300)"
        )
    if peak is not None:
        lines.append(
            f"at the peak {peak:.0f} of {budget:.0f} connections: {_holders_text(holders)}"
        )
    lines += evidence.fired_lines("HubDBConnectionsNearLimit", "HubDBConnectionBudgetExhausted")
    if not hit_wall:
        # Latent: the arithmetic is wrong, but this run never pushed the pools that far.
        return Finding(
            "app-pool-misconfigured",
            0.35,
            "the pools could outgrow PostgreSQL (not reached in this run)",
            lines,
        )
    # Below an injected fault that explains the wall (latency, outage, resets: 0.93+),
    # above the budget finding it causes (at most 0.88).
    confidence = 0.9
    return Finding(
        "app-pool-misconfigured",
        confidence,
        f"the app pools may open {capacity:.0f} connections, PostgreSQL takes {budget:.0f}: "
        "cap the pools",
        lines,
    )


def db_unreachable(evidence: Evidence) -> Finding | None:
    exporter_down = evidence.longest_run(lambda s: s.get("db_up") == 0) >= 2
    app_down = evidence.longest_run(lambda s: s.get("app_db_up") == 0) >= 2
    unanswered = evidence.total("logins_unanswered")
    cut = evidence.injected("disable_proxy") + evidence.toxics("timeout")
    if not (exporter_down or cut or (app_down and unanswered > 0)):
        return None
    lines = [f"fault: {i.name}: {i.describe()}" for i in cut]
    if exporter_down:
        lines.append("pg_up read 0: the postgres exporter could not reach PostgreSQL")
    if app_down:
        lines.append("learninghub_db_up read 0: replicas could not reach PostgreSQL")
    if unanswered > 0:
        lines.append(f"about {max(unanswered, 1):.0f} login(s) got no answer (08001)")
    lines += evidence.fired_lines("HubDatabaseDown")
    symptoms = exporter_down or app_down or unanswered > 0
    confidence = 0.95 if exporter_down else 0.93 if cut and symptoms else 0.6
    if evidence.toxics("reset_peer") and not cut:
        confidence = 0.5  # resets explain unanswered logins better
    return Finding("db-unreachable", confidence, "PostgreSQL is unreachable from the app", lines)


def db_connections_reset(evidence: Evidence) -> Finding | None:
    resets = evidence.toxics("reset_peer")
    if not resets:
        return None
    lines = [f"fault: {i.name}: {i.describe()}" for i in resets]
    errors = evidence.peak("error_rate") or 0.0
    unanswered = evidence.total("logins_unanswered")
    if errors > 0:
        lines.append(f"up to {errors:.0%} of requests failed with 5xx")
    if unanswered > 0:
        lines.append(f"about {max(unanswered, 1):.0f} login(s) were cut before PostgreSQL answered")
    lines += evidence.fired_lines("HubDatabaseDown", "HubHighErrorRate")
    confidence = 0.94 if errors > 0 or unanswered > 0 else 0.6
    return Finding(
        "db-connections-reset",
        confidence,
        "connections between the app and PostgreSQL are being reset",
        lines,
    )


def db_latency(evidence: Evidence) -> Finding | None:
    toxics = evidence.toxics("latency")
    query_p95 = evidence.peak("db_query_p95_seconds")
    before = evidence.baseline("db_query_p95_seconds")
    slow = query_p95 is not None and (
        query_p95 >= max(SLOW_QUERY_S, 3 * (before or 0.0))
        or _carries_an_injected_delay(query_p95, toxics)
    )
    if not toxics and not slow:
        return None
    lines = [f"fault: {i.name}: {i.describe()}" for i in toxics]
    if query_p95 is not None:
        was = f" (before the fault {before * 1000:.0f} ms)" if before is not None else ""
        lines.append(f"query p95 reached {query_p95 * 1000:.0f} ms{was}")
    page_p95 = evidence.peak("p95_latency_seconds")
    if page_p95 is not None:
        lines.append(f"request p95 reached {page_p95:.2f} s")
    lines += evidence.fired_lines("HubHighLatency", "HubDBPoolRequestsWaiting")
    confidence = 0.93 if toxics and slow else 0.5
    return Finding("db-latency", confidence, "the database path is slow", lines)


def _carries_an_injected_delay(query_p95: float, toxics: list[Injection]) -> bool:
    """Queries at least as slow as a delay the run injected: the toxic reached them.

    Needed beside the baseline: a busy steady state (the capacity probe's load
    on a 2-core node) can lift the median before the fault to half the peak.
    """
    delays = [d for toxic in toxics if (d := _delay_seconds(toxic)) is not None]
    return bool(delays) and query_p95 >= max(SLOW_QUERY_S, min(delays))


def _delay_seconds(toxic: Injection) -> float | None:
    """The delay a latency toxic adds, from ours (latency_ms) or chaostoolkit-toxiproxy's."""
    attributes = toxic.arguments.get("attributes")
    for value in (
        toxic.arguments.get("latency_ms"),
        toxic.arguments.get("latency"),
        attributes.get("latency") if isinstance(attributes, dict) else None,
    ):
        if (milliseconds := number(value)) is not None:
            return milliseconds / 1000.0
    return None
