"""Plots drawn from real timelines: which exist, what they shade, and that they are stable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

from hubchaos.journal.facts import facts_from_journal
from hubchaos.report.plots import COLOURS, render_plots

Journals = Callable[[str], dict[str, Any]]


def test_every_plot_is_an_svg_with_its_series(journal: Journals) -> None:
    plots = {p.name: p for p in render_plots(facts_from_journal(journal("incident-replay.fixed")))}
    assert list(plots) == ["pool", "database", "latency", "errors", "alerts"]
    for plot in plots.values():
        assert ElementTree.fromstring(plot.svg).tag.endswith("svg")
        assert plot.title and plot.description
    for name, colour in (
        ("pool", "waiting"),
        ("database", "connections"),
        ("latency", "latency"),
        ("errors", "errors"),
        ("alerts", "firing"),
    ):
        assert COLOURS[colour].encode() in plots[name].svg, name
    # fault windows are shaded on every plot
    assert all(COLOURS["fault"].encode() in p.svg for p in plots.values())


def test_alert_firing_is_hatched_only_where_a_related_alert_fired(journal: Journals) -> None:
    facts = facts_from_journal(journal("incident-replay.incident"))
    fired = {p.alert for p in facts.alert_periods("firing")}
    assert "HubDBPoolRequestsWaiting" in fired and "HubHighLatency" not in fired
    plots = {p.name: p.svg for p in render_plots(facts)}
    assert b"<pattern" in plots["pool"]  # HubDBPoolRequestsWaiting fired
    assert b"<pattern" not in plots["latency"]  # HubHighLatency never did


def test_the_same_journal_gives_the_same_bytes(journal: Journals) -> None:
    facts = facts_from_journal(journal("db-latency.fixed"))
    assert [p.svg for p in render_plots(facts)] == [p.svg for p in render_plots(facts)]


def test_no_timeline_no_plots(journal: Journals) -> None:
    data = journal("incident-replay.fixed")
    del data["hubchaos_timeline"]
    assert render_plots(facts_from_journal(data)) == []
    data = journal("incident-replay.fixed")
    for sample in data["hubchaos_timeline"]["samples"]:
        sample["alerts"] = {}
    assert "alerts" not in {p.name for p in render_plots(facts_from_journal(data))}
