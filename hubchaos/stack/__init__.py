"""Drivers that start, observe and stop the hub stack (the system under test).

One interface, one driver per environment:

driver        StackDriver (the protocol every caller holds), DownReport, defaults
base          BaseStack: the skeleton the drivers share (lock, reuse, cleanup, down)
drivers       open_stack(): the driver a state directory records; DRIVERS by env name
session       StackSession: find or start a stack for a batch of experiments, leave it as found
local/        LocalStack: processes on 127.0.0.1
docker/       DockerStack: containers through the Docker API
cli           `hubchaos up | status | down`

Shared by the drivers: state (stack.json), status, endpoints, ports, profiles
(the connection budget), monitoring (Prometheus/Alertmanager configs),
toxiproxy_setup, readiness (waiting with `hubchaos.polling`), environments
(where profiles, rules and compose files are found: $HUBCHAOS_ENVIRONMENTS).
A new environment (kubernetes/) is a subpackage with a BaseStack subclass and
one entry in drivers.DRIVERS. The programs that run inside a stack (webhook
receiver, docker migrate step) live with their environment in environments/.
"""
