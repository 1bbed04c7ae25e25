"""The import contract: which part of the project may import which (ARCHITECTURE.md).

Read from the source (tests/architecture/imports.py), so a forbidden import fails
here whether it sits at the top of a module, inside a function or under
TYPE_CHECKING. The rules:

- probes never import actions (what they share lives in a neutral module);
- the fault proxy (hubchaos.proxy) imports nothing else of hubchaos: it is a
  separate program that happens to ship in the same package;
- nothing imports the hub app (learninghub), the system under test, except the
  app itself and its own tests (tests/hub);
- no import circle among the project's modules;
- the runner's layers (LAYERS below) only import downwards.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import tomllib
from collections import defaultdict

from tests.architecture.imports import REPO, Import, cycles, import_graph, project_modules

# The runner's layers, highest first: a module may import its own layer and the
# layers below it, never one above. hubchaos.proxy is in no layer: it imports
# nothing of hubchaos at all. A new package or top-level module gets a line here.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("entry points", ("hubchaos.cli", "hubchaos.gameday", "hubchaos.pytest_plugin",
                      "hubchaos.__main__", "hubchaos.stack.cli", "hubchaos.stack.env_cli")),
    ("local cluster", ("hubchaos.cluster",)),
    ("runner", ("hubchaos.runner", "hubchaos.experiments", "hubchaos.discovery",
                "hubchaos.blast_radius")),
    ("output", ("hubchaos.report", "hubchaos.view", "hubchaos.diagnosis.live",
                "hubchaos.diagnosis.panel", "hubchaos.diagnosis.report")),
    ("activities", ("hubchaos.actions", "hubchaos.probes", "hubchaos.controls")),
    ("judgement", ("hubchaos.verdict", "hubchaos.journal", "hubchaos.score",
                   "hubchaos.diagnosis")),
    ("activity helpers", ("hubchaos.activity", "hubchaos.traffic", "hubchaos.ledger")),
    ("kubernetes stack", ("hubchaos.stack.kubernetes",)),
    ("manifests", ("hubchaos.budget", "hubchaos.kube")),
    ("stack", ("hubchaos.stack",)),
    ("foundation", ("hubchaos.errors", "hubchaos.polling", "hubchaos.private",
                    "hubchaos.reach")),
)  # fmt: skip
OUTSIDE_LAYERS = ("hubchaos", "hubchaos.proxy")  # the root package (version, discover hook)


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _layer(module: str) -> int | None:
    for rank, (_, packages) in enumerate(LAYERS):
        if any(_inside(module, package) for package in packages):
            return rank
    return None


def _broken_rule(edge: Import) -> str | None:
    """The rule `edge` breaks, in words, or None."""
    importer, imported = edge.importer, edge.imported
    if _inside(importer, "hubchaos.probes") and _inside(imported, "hubchaos.actions"):
        return "probes must not import actions"
    if (
        _inside(importer, "hubchaos.proxy")
        and _inside(imported, "hubchaos")
        and not _inside(imported, "hubchaos.proxy")
    ):
        return "hubchaos.proxy must not import the rest of hubchaos"
    if (
        _inside(imported, "learninghub")
        and not _inside(importer, "learninghub")
        and not _inside(importer, "tests.hub")
    ):
        return "only the hub app and tests/hub may import learninghub"
    low, high = _layer(importer), _layer(imported)
    if low is not None and high is not None and high < low:
        return f"layer '{LAYERS[low][0]}' must not import layer '{LAYERS[high][0]}'"
    return None


def _violations() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for edge in import_graph():
        rule = _broken_rule(edge)
        if rule is not None:
            found[(edge.importer, edge.imported)].append(f"{edge.where()}: {rule}")
    return found


def test_no_forbidden_import() -> None:
    found = _violations()
    lines = [f"{place}: {a} -> {b}" for (a, b), places in sorted(found.items()) for place in places]
    assert not lines, "forbidden imports (see ARCHITECTURE.md):\n" + "\n".join(lines)


def test_no_import_circle() -> None:
    circles = cycles(import_graph())
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_every_runner_module_has_a_layer() -> None:
    unplaced = [
        module
        for module in project_modules()
        if _inside(module, "hubchaos")
        and _layer(module) is None
        and module not in OUTSIDE_LAYERS
        and not _inside(module, "hubchaos.proxy")
    ]
    assert not unplaced, f"add these to LAYERS in {__file__}: {unplaced}"


def test_the_rules_catch_what_they_forbid() -> None:
    """Each rule, fed an import it forbids, names it (the checker itself can fail)."""
    forbidden = [
        ("hubchaos.probes.pool", "hubchaos.actions.flood"),
        ("hubchaos.proxy.model", "hubchaos.activity.settings"),
        ("hubchaos.report.writer", "learninghub.app"),
        ("hubchaos.journal.facts", "hubchaos.report.plots"),
        ("hubchaos.errors", "hubchaos.stack.state"),
        ("hubchaos.polling", "hubchaos.activity.settings"),
    ]
    allowed = [
        ("hubchaos.probes.pool", "hubchaos.activity.settings"),
        ("tests.hub.conftest", "learninghub.app"),
        ("hubchaos.cli.run", "hubchaos.runner"),
        ("hubchaos.proxy.api", "hubchaos.proxy.model"),
        ("hubchaos.stack.readiness", "hubchaos.polling"),
    ]
    where = REPO / "x.py"
    for importer, imported in forbidden:
        assert _broken_rule(Import(importer, imported, where, 1)), (importer, imported)
    for importer, imported in allowed:
        assert _broken_rule(Import(importer, imported, where, 1)) is None, (importer, imported)
    assert cycles(
        [Import("a.x", "a.y", where, 1), Import("a.y", "a.z", where, 1),
         Import("a.z", "a.x", where, 1), Import("a.z", "a.w", where, 1)]
    ) == [["a.x", "a.y", "a.z"]]  # fmt: skip


def test_pyproject_lists_every_package() -> None:
    """A package missing from pyproject's list works editable but not when installed."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    mapped = config["package-dir"]
    found = {"hubchaos.actions", "hubchaos.probes"} & set(mapped)
    for init in (REPO / "hubchaos").rglob("__init__.py"):
        found.add(".".join(init.parent.relative_to(REPO).parts))
    assert found == listed, f"missing: {sorted(found - listed)}; stale: {sorted(listed - found)}"


def test_importing_the_project_sets_no_signal_handler() -> None:
    """No import-time side effects: handlers are installed where a run starts."""
    modules = sorted(
        m for m in project_modules() if _inside(m, "hubchaos") and not re.search(r"\.__main__$", m)
    )
    script = textwrap.dedent(
        f"""
        import importlib, signal
        signals = sorted(signal.valid_signals() - {{signal.SIGKILL, signal.SIGSTOP}})
        before = {{s: signal.getsignal(s) for s in signals}}
        for name in {modules!r}:
            importlib.import_module(name)
        changed = [s for s in signals if signal.getsignal(s) is not before[s]]
        print(",".join(signal.Signals(s).name for s in changed))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"set at import: {result.stdout.strip()}"
