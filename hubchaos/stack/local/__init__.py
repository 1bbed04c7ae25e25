"""The hub stack as local processes on 127.0.0.1 (`hubchaos up`, the default environment).

stack       LocalStack: the driver (start order, changes to a running stack)
parts       each process's command line, environment and health check
processes   spawning, recording (pidfiles) and stopping processes
database    the stack's PostgreSQL: start, migrate, the observer role
postgres    a private PostgreSQL cluster (also used by tests)
binaries    finding PostgreSQL, Prometheus, Alertmanager, the exporter, toxiproxy-server
health      `hubchaos status` of the processes
layout      where everything lives in the state directory
"""

from hubchaos.stack.local.stack import LocalStack

__all__ = ["LocalStack"]
