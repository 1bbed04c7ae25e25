"""A stand-in runner for the dead man's switch tests: injects faults through the
real actions, says "ready", then waits to be killed (or to end by itself).

    python -m tests.ledger.fault_child STATE_DIR TOXIPROXY_URL LEASE_S FAULT...

FAULT: latency:<proxy> (a latency toxic) or disable:<proxy> (a disabled proxy).
"""

from __future__ import annotations

import sys
import time

from hubchaos.actions import toxiproxy as tp


def main() -> None:
    state_dir, url, lease, *faults = sys.argv[1:]
    configuration = {
        "hubchaos_state_dir": state_dir,
        "hubchaos_toxiproxy_url": url,
        "hubchaos_lease_seconds": lease,
    }
    for fault in faults:
        kind, proxy = fault.split(":", 1)
        if kind == "latency":
            tp.add_latency(proxy, 300, configuration=configuration)
        elif kind == "disable":
            tp.disable_proxy(proxy, configuration=configuration)
        else:
            raise SystemExit(f"unknown fault {fault!r}")
    print("ready", flush=True)
    time.sleep(120)


if __name__ == "__main__":
    main()
