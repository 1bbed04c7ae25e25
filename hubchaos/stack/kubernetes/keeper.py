"""Keeps one `kubectl port-forward` running: `python -m hubchaos.stack.kubernetes.keeper ARGV...`.

kubectl (1.23 and later) ends the whole port-forward with "lost connection to
pod" as soon as ONE forwarded connection is reset inside the pod, which is
what chaos does for a living: a killed learninghub pod makes the in-cluster
proxy reset its clients, and the runner's loopback port to the proxy is gone
for the rest of the run. The keeper starts kubectl again, so a forward is down
for a fraction of a second, as a real load balancer's backend would be.

The keeper and kubectl share one process group, so `down` stops both. A
forward that never comes up (a wrong target, no pod) gives up after a few fast
failures with kubectl's exit code, so `up` reports it instead of waiting.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

__all__ = ["keep_running"]

FIRST_PAUSE_S = 0.2
LONGEST_PAUSE_S = 2.0
# A run this long counts as "it worked": the next failure restarts at once.
HEALTHY_RUN_S = 5.0
# Failures in a row, each shorter than HEALTHY_RUN_S, before a forward that
# never worked is given up.
FAST_FAILURES_BEFORE_GIVING_UP = 5


def keep_running(argv: Sequence[str]) -> int:
    """Run `argv` until SIGTERM/SIGINT, restarting it whenever it exits."""
    child: subprocess.Popen[bytes] | None = None
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pause, fast_failures, ever_healthy = FIRST_PAUSE_S, 0, False
    while not stopping:
        started = time.monotonic()
        child = subprocess.Popen(list(argv))
        code = child.wait()
        if stopping:
            break
        if time.monotonic() - started >= HEALTHY_RUN_S:
            # it worked: clients are waiting on its port, so start it again at once
            pause, fast_failures, ever_healthy = 0.0, 0, True
        else:
            fast_failures += 1
            if not ever_healthy and fast_failures >= FAST_FAILURES_BEFORE_GIVING_UP:
                print(f"hubchaos keeper: kubectl exited {code} {fast_failures} times "
                      "in a row at start; giving up", flush=True)  # fmt: skip
                return code or 1
        print(f"hubchaos keeper: kubectl exited {code}; restarting in {pause:.1f} s", flush=True)
        time.sleep(pause)
        pause = min(max(pause * 2, FIRST_PAUSE_S), LONGEST_PAUSE_S)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m hubchaos.stack.kubernetes.keeper KUBECTL_ARGV...")
    sys.exit(keep_running(sys.argv[1:]))
