"""`hubchaos up`, `hubchaos status`, `hubchaos down`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from hubchaos.errors import UserError
from hubchaos.ledger.status import show_faults
from hubchaos.private.redact import redact_text
from hubchaos.stack.driver import DEFAULT_REPLICAS, DEFAULT_STATE_DIR
from hubchaos.stack.drivers import DRIVERS, driver_for, open_stack
from hubchaos.stack.ports import PORT_OFFSET_ENV
from hubchaos.stack.state import StackState

STATE_DIR_HELP = "State directory of the stack (stack.json, logs, database)."
OFFSET_HELP = (
    f"Shift every port of the stack by N (default ${PORT_OFFSET_ENV} or 0), "
    "e.g. to run a second stack beside yours."
)


def _echo_progress(line: str) -> None:
    click.echo(line, err=True)


@click.command("up")
@click.option(
    "--env",
    "env_name",
    type=click.Choice(list(DRIVERS)),
    default="local",
    show_default=True,
    help="Where the stack runs: local processes or Docker Compose.",
)
@click.option(
    "--profile",
    default="fixed",
    show_default=True,
    metavar="fixed|incident",
    help="Pool settings: 'fixed' (post-incident, inside the connection budget) or "
    "'incident' (the 2024-01-15 misconfiguration).",
)
@click.option(
    "--replicas",
    type=int,
    default=DEFAULT_REPLICAS,
    show_default=True,
    help="Number of learninghub app replicas (ports 18001, 18002, ...).",
)
@click.option(
    "--toxiproxy",
    default="auto",
    show_default=True,
    metavar="auto|embedded|PATH",
    help="Fault proxy: a real toxiproxy-server from PATH if there is one (auto), the "
    "embedded server, or the path of a toxiproxy-server binary.",
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    help=STATE_DIR_HELP,
)
@click.option("--port-offset", type=int, default=None, metavar="N", help=OFFSET_HELP)
@click.option(
    "--offline",
    is_flag=True,
    help="With --env docker: build every image from a local Debian base "
    "(environments/docker/build-offline.sh) and use the embedded proxy; pull nothing. "
    "With --env kubernetes: the overlay with the offline images (loaded into the cluster).",
)
@click.option(
    "--kubeconfig",
    default=None,
    metavar="FILE",
    help="With --env kubernetes: the kubeconfig (default $KUBECONFIG, ~/.kube/config).",
)
@click.option("--context", default=None, help="With --env kubernetes: the kubeconfig context.")
@click.option(
    "--namespace", default=None, help="With --env kubernetes: the namespace (default hubchaos)."
)
def up_command(
    env_name: str, profile: str, replicas: int, toxiproxy: str, state_dir: Path,
    port_offset: int | None, offline: bool, kubeconfig: str | None, context: str | None,
    namespace: str | None,
) -> None:  # fmt: skip
    """Start the hub stack and wait until every part is healthy.

    Runs PostgreSQL, the Toxiproxy-compatible fault proxy (proxies hub_db and
    hub_web), the learninghub replicas, the postgres exporter, Prometheus,
    Alertmanager and a webhook receiver on 127.0.0.1, prints the endpoints and
    writes them to STATE_DIR/stack.json. A part that fails to start is named
    with its log file, and everything already started is stopped again.
    """
    options: dict[str, Any] = {}  # what only one environment's driver takes
    if env_name != "kubernetes" and (kubeconfig or context or namespace):
        raise UserError("--kubeconfig, --context and --namespace are for --env kubernetes")
    if env_name == "kubernetes":
        options.update(offline=offline, kubeconfig=kubeconfig, context=context)
        options.update(namespace=namespace or "hubchaos")
    elif env_name == "docker":
        if toxiproxy != "auto":
            raise UserError("--toxiproxy is for --env local; --env docker runs Toxiproxy's image "
                            "(or, with --offline, the embedded proxy's)")  # fmt: skip
        options["offline"] = offline
    elif offline:
        raise UserError("--offline is for --env docker")
    else:
        options["toxiproxy"] = toxiproxy
    stack = driver_for(env_name, state_dir, port_offset=port_offset, progress=_echo_progress)
    _print_endpoints(stack.up(profile=profile, replicas=replicas, **options))


@click.command("status")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    help=STATE_DIR_HELP,
)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status_command(state_dir: Path, as_json: bool) -> None:
    """Show each part of the stack as healthy, running (unhealthy) or down.

    Also lists active faults (toxics with their attributes, disabled proxies,
    floods, fault-ledger entries). Exit status: 0 when every part is healthy
    and the stack is at its baseline (no fault), 1 otherwise (including when
    no stack is running).
    """
    status = open_stack(state_dir, progress=_echo_progress).status()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "healthy": status.healthy,
                    "profile": status.state.profile if status.state else None,
                    "parts": [part.__dict__ for part in status.parts],
                },
                indent=2,
            )
        )
    elif status.state is None and not status.parts:
        click.echo(f"no stack is running from {state_dir} (start one with `hubchaos up`)")
    else:
        if status.state is not None:
            click.echo(
                f"profile {status.state.profile}, {status.state.replicas} replicas, "
                f"started {status.state.started_at}"
            )
        width = max(len(part.name) for part in status.parts)
        for part in status.parts:
            pid = f" pid {part.pid}" if part.pid else ""
            detail = f"  ({part.detail})" if part.detail else ""
            click.echo(f"{part.name:<{width}}  {part.state:<7}  {part.endpoint}{pid}{detail}")
    at_baseline = show_faults(state_dir, status.state, as_json)
    sys.exit(0 if status.healthy and at_baseline else 1)


@click.command("down")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    help=STATE_DIR_HELP,
)
@click.option(
    "--purge",
    is_flag=True,
    help="Also delete the state directory, database included (the next `up` starts cold).",
)
def down_command(state_dir: Path, purge: bool) -> None:
    """Stop every part of the stack, leaving no process or port behind.

    Works after an `up` that crashed halfway too: every process was recorded
    when it was spawned. Without --purge the database is kept so the next
    `up` is fast.
    """
    report = open_stack(state_dir, progress=_echo_progress).down(purge=purge)
    if report.stopped:
        click.echo(f"stopped: {', '.join(report.stopped)}")
    else:
        click.echo("nothing was running")
    if report.purged:
        click.echo(f"deleted {state_dir}")
    if report.busy_ports:
        busy = ", ".join(f"{port} ({part})" for port, part in sorted(report.busy_ports.items()))
        click.echo(f"warning: ports still in use by other processes: {busy}", err=True)
        sys.exit(1)


def _print_endpoints(state: StackState) -> None:
    rows = [
        ("app (hub_web proxy)", state.app_url),
        *[(f"app-{i}", u) for i, u in enumerate(state.app_replica_urls, start=1)],
        ("toxiproxy API", state.toxiproxy_url),
        # masked: this output ends up in CI logs; `hubchaos env` prints the real DSNs
        ("database (direct)", redact_text(state.db_dsn)),
        ("database (app, via hub_db)", redact_text(state.app_db_dsn)),
        ("prometheus", state.prometheus_url),
        ("alertmanager", state.alertmanager_url),
        ("webhook receiver", state.receiver_url),
        ("postgres exporter", state.exporter_url),
    ]
    width = max(len(name) for name, _ in rows)
    budget = state.budget
    replicas, connections = f"{state.replicas} replicas", str(budget.get("app_connections_max"))
    if "max_replicas" in budget:  # Kubernetes: the autoscaler may add replicas, pools with them
        replicas += f" (autoscaler up to {budget['max_replicas']})"
        connections = f"up to {connections}"
    click.echo(
        f"hub stack is up: profile {state.profile}, {replicas} x (pool max "
        f"{budget.get('pool_max_per_replica')} + 1 health check) = "
        f"{connections} connections (app budget {budget.get('app_budget')})"
    )
    for name, value in rows:
        click.echo(f"  {name:<{width}}  {value}")
    click.echo(f"  {'state':<{width}}  {Path(state.state_dir) / 'stack.json'}")
