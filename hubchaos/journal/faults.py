"""When each fault of a run was active, read from its journal.

A method action is a fault window from its start to its end (a flood, a
spike: background ones run for their whole duration). A toxic or a disabled
proxy outlives the action that made it: it stays active until an action
removes it (`remove_toxic`, `remove_all_toxics`, `enable_proxy`, `reset`,
`undo_all`, in the method or the rollbacks), until the safety control undoes
it, or else until the run ends. The toxiproxy actions say what they did in
their output, which is what this module reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hubchaos.journal.timestamps import parse_time

__all__ = ["FaultWindow", "fault_windows"]

# a lasting fault: (proxy, toxic name), or (proxy, "") for a disabled proxy
FaultKey = tuple[str, str]


@dataclass(frozen=True)
class FaultWindow:
    name: str  # the action that injected it
    start: datetime
    end: datetime
    lasting: bool = False  # a toxic or a disabled proxy, active after its action ended
    removed_by: str = ""  # what ended a lasting fault ("" for an action window)


def fault_windows(journal: dict[str, Any]) -> list[FaultWindow]:
    """Every fault window of the run, ordered by start."""
    run_end = parse_time(journal.get("end"))
    windows: list[FaultWindow] = []
    open_faults: dict[FaultKey, tuple[str, datetime]] = {}
    method = [(r, "method") for r in journal.get("run") or [] if _is_action(r)]
    rollbacks = [(r, "rollback") for r in journal.get("rollbacks") or [] if _is_action(r)]
    for run, phase in method + rollbacks:
        start, end = parse_time(run.get("start")), parse_time(run.get("end"))
        end = end or run_end  # an action interrupted mid-way lasted until the run ended
        if start is None or end is None:
            continue
        name = str(run["activity"].get("name", "?"))
        output = run.get("output") if run.get("status") == "succeeded" else None
        removed, added = _removed(output, open_faults), _added(output)
        # an action that adds or removes a lasting fault is described by that fault's window
        if phase == "method" and not removed and not added:
            windows.append(FaultWindow(name, start, end))
        for key in removed:
            injected_by, began = open_faults.pop(key)
            windows.append(FaultWindow(injected_by, began, end, True, f"{phase} {name}"))
        if added:
            open_faults[added] = (name, start)
    safety = journal.get("hubchaos_safety") or {}
    undone = _removed(safety.get("toxiproxy_undone"), open_faults)
    for key, (injected_by, began) in list(open_faults.items()):
        if run_end is None:
            continue
        removed_by = "the safety control" if key in undone else "nothing: still active at the end"
        windows.append(FaultWindow(injected_by, began, run_end, True, removed_by))
    windows.sort(key=lambda window: (window.start, window.lasting))
    return windows


def _is_action(run: Any) -> bool:
    return isinstance(run, dict) and (run.get("activity") or {}).get("type") == "action"


def _added(output: Any) -> FaultKey | None:
    if not isinstance(output, dict) or "proxy" not in output:
        return None
    toxic = output.get("toxic")
    if isinstance(toxic, dict) and toxic.get("name"):
        return (str(output["proxy"]), str(toxic["name"]))
    if output.get("enabled") is False:
        return (str(output["proxy"]), "")
    return None


def _removed(output: Any, open_faults: dict[FaultKey, tuple[str, datetime]]) -> set[FaultKey]:
    if not isinstance(output, dict):
        return set()
    if output.get("reset") is True:
        return set(open_faults)
    proxy = str(output.get("proxy", ""))
    keys: set[FaultKey] = set()
    if output.get("enabled") is True:
        keys.add((proxy, ""))
    keys |= set(_entries(output.get("removed"), proxy))
    keys |= set(_entries(output.get("undone"), proxy))
    return keys & set(open_faults)


def _entries(items: Any, proxy: str) -> Iterable[FaultKey]:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):  # remove_toxic: {"proxy": p, "removed": [name]}
            yield (proxy, item)
        elif isinstance(item, dict) and item.get("proxy"):
            yield (str(item["proxy"]), str(item.get("toxic", "")))
