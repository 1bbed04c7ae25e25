"""The configs the docker stack's containers mount, rendered like the local stack's.

Prometheus and Alertmanager get their files from the same renderers as
`hubchaos up --env local` (hubchaos.stack.monitoring, templates in
environments/monitoring), only with the targets' names on the stack's Docker
network; the fault proxy gets its proxies as a Toxiproxy config file.
"""

from __future__ import annotations

import json
from pathlib import Path

from hubchaos.stack import monitoring
from hubchaos.stack.toxiproxy_setup import ProxySpec

# Where compose.yaml mounts the rules directory inside the Prometheus container.
RULES_IN_CONTAINER = "/etc/hubchaos/rules"
APP_PORT = 8000
HUB_DB_PORT = 15433  # inside the network; published on the stack's hub_db port
HUB_WEB_PORT = 18000
FILES = ("prometheus.yml", "alertmanager.yml", "toxiproxy.json")


def proxy_specs() -> list[ProxySpec]:
    """hub_db: app -> PostgreSQL; hub_web: clients -> every live app replica (DNS alias)."""
    return [
        ProxySpec("hub_db", f"0.0.0.0:{HUB_DB_PORT}", "postgres:5432"),
        ProxySpec("hub_web", f"0.0.0.0:{HUB_WEB_PORT}", f"app:{APP_PORT}"),
    ]


def render_configs(directory: Path, replicas: int) -> dict[str, Path]:
    """Write prometheus.yml, alertmanager.yml and toxiproxy.json into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    rules = [f"{RULES_IN_CONTAINER}/{Path(path).name}" for path in monitoring.rules_files()]
    texts = {
        "prometheus.yml": monitoring.render_prometheus_config(
            app_targets=[f"app-{index}:{APP_PORT}" for index in range(1, replicas + 1)],
            exporter_target="exporter:9187",
            proxy_target="toxiproxy:8474",
            alertmanager_target="alertmanager:9093",
            rules_files=rules,
        ),
        "alertmanager.yml": monitoring.render_alertmanager_config(
            webhook_url="http://receiver:9095/alerts"
        ),
        "toxiproxy.json": json.dumps(
            [{"name": spec.name, **spec.as_dict(), "enabled": True} for spec in proxy_specs()],
            indent=2,
        )
        + "\n",
    }
    paths = {}
    for name, text in texts.items():
        path = directory / name
        path.write_text(text)
        path.chmod(0o644)  # read by non-root users inside the containers
        paths[name] = path
    return paths
