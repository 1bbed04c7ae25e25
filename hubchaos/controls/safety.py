"""Safety control: however a run ends, leave the stack as we found it.

Declared in an experiment as::

    controls:
      - name: hubchaos-safety
        provider: {type: python, module: hubchaos.controls.safety}

Before the experiment it takes the Toxiproxy server's state as the baseline
(and this process's lease on the fault ledger, so `hubchaos abort` finds it).
After the experiment (passed, deviated, failed, Ctrl-C, SIGTERM or SIGHUP;
chaoslib calls `after_experiment_control` in every case) it stops every flood
this process started, undoes every fault this run recorded in the ledger, then
removes whatever else differs from the baseline (a third-party activity's
toxic, say) and names it under `left_behind`, and waits until no flood or
probe connection is left in PostgreSQL. `clean` means the server is back at
the baseline, read from the server. The outcome is written into the journal under `hubchaos_safety`.
`cleanup_control` repeats the undo in case the experiment never reached its end.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

import psycopg

from hubchaos.activity.settings import setting
from hubchaos.controls.baseline import back_to_baseline, take_baseline
from hubchaos.ledger import history as fault_history
from hubchaos.polling import poll_until

__all__ = ["after_experiment_control", "cleanup_control", "configure_control", "restore"]

logger = logging.getLogger("hubchaos")

# application_name prefixes of the connections hubchaos itself opens
OWN_APPLICATION_PREFIX = "hubchaos-"
RECOVERY_DEADLINE_S = 30.0

_configuration: dict[str, Any] = {}
_restored = False


def configure_control(
    configuration: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None
) -> None:
    global _restored
    _configuration.clear()
    _configuration.update(configuration or {})
    _restored = False
    fault_history.clear()  # "since the first fault" means this experiment's first fault
    _stop_floods_on_signals()
    take_baseline(_configuration)


def _stop_floods_on_signals() -> None:
    """Ctrl-C and SIGTERM stop background floods at once.

    chaoslib installs its SIGTERM handler when the run starts, just before
    controls are configured, so the hook chains in front of it here; without
    it a SIGTERM would wait for background floods to end by themselves.
    """
    from hubchaos.actions import _flood_registry

    _flood_registry.reset_signal_count()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        _flood_registry.install_stop_hook(signum)


def after_experiment_control(context: dict[str, Any], state: dict[str, Any], **kwargs: Any) -> None:
    summary = restore(_configuration)
    if isinstance(state, dict):
        state["hubchaos_safety"] = summary


def cleanup_control() -> None:
    if not _restored:
        restore(_configuration)


def restore(configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Undo every fault this process injected; return what was done and whether it held."""
    global _restored
    _restored = True
    summary: dict[str, Any] = {"errors": []}
    started = time.monotonic()
    summary["floods_stopped"] = _stop_floods(summary)
    summary["toxiproxy_undone"] = _undo_toxiproxy(configuration, summary)
    back_to_baseline(configuration, summary)
    summary["leftover_connections"] = _wait_for_own_connections_gone(configuration, summary)
    summary["seconds"] = round(time.monotonic() - started, 3)
    summary["clean"] = not summary["errors"] and summary["leftover_connections"] == 0
    level = logging.INFO if summary["clean"] else logging.ERROR
    logger.log(level, "hubchaos safety: %s", _describe(summary))
    return summary


def _stop_floods(summary: dict[str, Any]) -> Any:
    try:
        from hubchaos.actions.flood import stop_floods

        return stop_floods()
    except Exception as exc:  # cleanup must go on whatever failed
        summary["errors"].append(f"stopping floods: {exc}")
        return None


def _undo_toxiproxy(configuration: dict[str, Any] | None, summary: dict[str, Any]) -> Any:
    try:
        from hubchaos.actions.toxiproxy import undo_all

        return undo_all(configuration=configuration)
    except Exception as exc:
        summary["errors"].append(f"removing toxics: {exc}")
        return None


def _count_own_connections(dsn: str) -> int:
    with psycopg.connect(dsn, connect_timeout=3, application_name="hubchaos-safety") as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name LIKE %s AND pid <> pg_backend_pid()",
            (OWN_APPLICATION_PREFIX + "%",),
        ).fetchone()
    return int(row[0]) if row else 0


def _wait_for_own_connections_gone(
    configuration: dict[str, Any] | None, summary: dict[str, Any]
) -> int:
    dsn = setting("hubchaos_db_dsn", configuration)
    polled = poll_until(
        lambda _left: _count_own_connections(dsn),
        RECOVERY_DEADLINE_S,
        0.5,
        done=lambda leftover: leftover == 0,
        retry_on=(psycopg.Error,),
    )
    if polled.error is not None:
        last_error = str(polled.error).strip().splitlines()[0]
        summary["errors"].append(f"could not check PostgreSQL connections: {last_error}")
        return -1
    return polled.value if polled.value is not None else -1


def _describe(summary: dict[str, Any]) -> str:
    if summary["clean"]:
        return f"stack restored in {summary['seconds']}s"
    problems = list(summary["errors"])
    if summary["leftover_connections"] > 0:
        problems.append(f"{summary['leftover_connections']} hubchaos connections still open")
    return "; ".join(problems)
