"""The report's plots: what the stack did second by second, with the faults and alerts on it.

Drawn with matplotlib's object API (no pyplot state, no display needed) as
SVG with text turned into paths, so a plot looks the same everywhere and
needs no font or network. Every plot shares the same time axis (seconds
since the run started) and margins, so plots stacked in a page line up.
Fault windows are shaded red; the periods when a related alert fired are
hatched orange; the last plot shows every alert's pending and firing periods.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from hubchaos.journal.facts import AlertPeriod, Facts

__all__ = ["COLOURS", "Plot", "render_plots"]

# Colours are part of what the browser test looks for in a screenshot.
COLOURS = {
    "used": "#1f5fbf",
    "limit": "#222222",
    "waiting": "#e07b00",
    "connections": "#13808a",
    "latency": "#7b3fb5",
    "errors": "#b8336a",
    "fault": "#d62728",
    "alert": "#ff8c00",
    "pending": "#f5c26b",
    "firing": "#d9480f",
}

# Which alerts belong on which plot (the alert names are part of DESIGN §4).
RELATED_ALERTS = {
    "pool": ("HubDBPoolSaturated", "HubDBPoolRequestsWaiting"),
    "database": ("HubDBConnectionsNearLimit", "HubDatabaseDown", "HubDBQuerySpike"),
    "latency": ("HubHighLatency",),
    "errors": ("HubHighErrorRate",),
}

WIDTH_IN = 10.0
PANEL_HEIGHT_IN = 2.5
# the wide left margin fits alert names on the alerts plot; every plot shares it
MARGINS = {"left": 0.2, "right": 0.78, "top": 0.86, "bottom": 0.2}


@dataclass(frozen=True)
class Plot:
    name: str
    title: str
    description: str
    svg: bytes


def render_plots(facts: Facts) -> list[Plot]:
    """Every plot the timeline has data for; none when the run has no timeline samples."""
    if not facts.samples or facts.origin is None:
        return []
    plots = [
        _metric_plot(facts, "pool", "Connection pool", "connections / requests", _pool),
        _metric_plot(facts, "database", "PostgreSQL connections", "connections", _database),
        _metric_plot(facts, "latency", "p95 request latency", "seconds", _latency),
        _metric_plot(facts, "errors", "Share of 5xx responses", "% of requests", _errors),
    ]
    if facts.alerts_seen():
        plots.append(_alerts_plot(facts))
    return plots


# --------------------------------------------------------------------------- drawing


def _xs(facts: Facts, times: Sequence[datetime]) -> list[float]:
    return [facts.offset(t) or 0.0 for t in times]


def _line(ax: Axes, facts: Facts, key: str, label: str, colour: str, **style: Any) -> None:
    points = facts.series(key)
    if not any(v is not None for _, v in points):
        return
    scale = 100.0 if key == "error_rate" else 1.0
    ys = [float("nan") if v is None else v * scale for _, v in points]
    ax.plot(_xs(facts, [t for t, _ in points]), ys, label=label, color=colour, **style)


def _pool(ax: Axes, facts: Facts) -> None:
    _line(ax, facts, "pool_used", "in use", COLOURS["used"], linewidth=2)
    _line(ax, facts, "pool_max", "pool max", COLOURS["limit"], linestyle="--", linewidth=1.2)
    _line(ax, facts, "pool_pending", "requests waiting", COLOURS["waiting"], linewidth=2)


def _database(ax: Axes, facts: Facts) -> None:
    _line(ax, facts, "db_connections", "connections", COLOURS["connections"], linewidth=2)
    _line(
        ax,
        facts,
        "db_max_connections",
        "max_connections",
        COLOURS["limit"],
        linestyle="--",
        linewidth=1.2,
    )


def _latency(ax: Axes, facts: Facts) -> None:
    _line(ax, facts, "p95_latency_seconds", "p95 latency", COLOURS["latency"], linewidth=2)


def _errors(ax: Axes, facts: Facts) -> None:
    _line(ax, facts, "error_rate", "5xx share", COLOURS["errors"], linewidth=2)
    ax.set_ylim(-3, 103)


def _shade_faults(ax: Axes, facts: Facts) -> None:
    for index, window in enumerate(facts.fault_windows):
        ax.axvspan(
            facts.offset(window.start) or 0.0,
            facts.offset(window.end) or 0.0,
            color=COLOURS["fault"],
            alpha=0.12,
            linewidth=0,
            label="fault injected" if index == 0 else None,
        )


def _shade_alerts(ax: Axes, facts: Facts, alerts: Sequence[str]) -> None:
    periods = [p for p in facts.alert_periods("firing") if p.alert in alerts]
    fired = sorted({p.alert for p in periods})
    for index, period in enumerate(periods):
        ax.axvspan(
            facts.offset(period.start) or 0.0,
            facts.offset(period.end) or 0.0,
            facecolor="none",
            edgecolor=COLOURS["alert"],
            hatch="///",
            linewidth=0,
            alpha=0.7,
            label="\n".join(["firing:", *fired]) if index == 0 else None,
        )


def _new_figure(height_in: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_IN, height_in))
    figure.subplots_adjust(**MARGINS)
    return figure, figure.add_subplot()


def _frame(ax: Axes, facts: Facts, title: str, ylabel: str) -> None:
    ends = [facts.offset(facts.timeline_end), facts.offset(facts.fault_end)]
    ax.set_xlim(0, max([e for e in ends if e is not None] + [1.0]))
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_xlabel("seconds since the run started", fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(True, color="#dddddd", linewidth=0.6)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False
        )


def _metric_plot(
    facts: Facts, name: str, title: str, ylabel: str, draw: Callable[[Axes, Facts], None]
) -> Plot:
    figure, ax = _new_figure(PANEL_HEIGHT_IN)
    draw(ax, facts)
    _shade_faults(ax, facts)
    _shade_alerts(ax, facts, RELATED_ALERTS[name])
    ax.set_ylim(bottom=0 if name != "errors" else -3)
    _frame(ax, facts, title, ylabel)
    alerts = ", ".join(RELATED_ALERTS[name])
    description = (
        f"{title} per second of the run; fault windows shaded red, periods when {alerts} "
        "fired hatched orange."
    )
    return Plot(name, title, description, _svg(figure))


def _alerts_plot(facts: Facts) -> Plot:
    alerts = facts.alerts_seen()
    figure, ax = _new_figure(1.2 + 0.32 * len(alerts))
    rows = {alert: index for index, alert in enumerate(reversed(alerts))}
    _shade_faults(ax, facts)
    for state, colour in (("pending", COLOURS["pending"]), ("firing", COLOURS["firing"])):
        periods: list[AlertPeriod] = facts.alert_periods(state)
        for index, period in enumerate(periods):
            start = facts.offset(period.start) or 0.0
            # a state seen in a single sample still gets a visible bar of one sample
            width = max((facts.offset(period.end) or 0.0) - start, 1.0)
            ax.broken_barh(
                [(start, width)],
                (rows[period.alert] - 0.35, 0.7),
                color=colour,
                label=state if index == 0 else None,
            )
    ax.set_yticks(list(rows.values()), list(rows.keys()))
    ax.set_ylim(-0.7, len(alerts) - 0.3)
    _frame(ax, facts, "Alerts", "")
    description = (
        "Every alert seen during the run: pending periods light, firing periods dark, "
        "fault windows shaded red."
    )
    return Plot("alerts", "Alerts", description, _svg(figure))


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # a fixed salt keeps element ids (and so the file) identical for identical data
    with matplotlib.rc_context({"svg.hashsalt": "hubchaos", "svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
