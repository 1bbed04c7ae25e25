"""Enforce an activity's `timeout`, which chaoslib validates but never applies.

Declared in an experiment as::

    controls:
      - name: hubchaos-timeouts
        provider: {type: python, module: hubchaos.controls.timeouts}

Before each activity with a `timeout` a watchdog is armed. When it expires,
`ActivityTimedOut` (an `ActivityFailed`) is raised inside the activity:
through SIGALRM in the main thread, so even a blocking call is interrupted,
and as an asynchronous exception in a background activity's thread, where it
lands at the next Python instruction (our activities never block longer than
their own network timeouts). chaoslib then records the activity as failed.
"""

from __future__ import annotations

import ctypes
import signal
import threading
from typing import Any

from chaoslib.exceptions import ActivityFailed

__all__ = ["ActivityTimedOut", "after_activity_control", "before_activity_control"]


class ActivityTimedOut(ActivityFailed):
    """The activity ran longer than its declared `timeout`."""


_watchdogs: dict[int, threading.Timer] = {}
_lock = threading.Lock()


def before_activity_control(context: dict[str, Any], **kwargs: Any) -> None:
    timeout = context.get("timeout")
    if not isinstance(timeout, int | float) or timeout <= 0:
        return
    name = context.get("name", "activity")
    thread = threading.current_thread()
    if thread is threading.main_thread():
        _arm_alarm(float(timeout), name)
        return
    timer = threading.Timer(float(timeout), _raise_in_thread, args=(thread.ident, name, timeout))
    timer.daemon = True
    with _lock:
        _watchdogs[thread.ident or 0] = timer
    timer.start()


def after_activity_control(context: dict[str, Any], **kwargs: Any) -> None:
    if threading.current_thread() is threading.main_thread():
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    with _lock:
        timer = _watchdogs.pop(threading.get_ident(), None)
    if timer is not None:
        timer.cancel()


def _arm_alarm(timeout: float, name: str) -> None:
    def expired(signum: int, frame: Any) -> None:
        raise ActivityTimedOut(f"activity '{name}' exceeded its timeout of {timeout:g}s")

    signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, timeout)


def _raise_in_thread(thread_id: int | None, name: str, timeout: float) -> None:
    if thread_id is None:
        return

    # Python cannot raise into another thread with arguments; a subclass
    # carrying the message does the job.
    class _Expired(ActivityTimedOut):
        def __init__(self) -> None:
            super().__init__(f"activity '{name}' exceeded its timeout of {timeout:g}s")

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(_Expired)
    )
