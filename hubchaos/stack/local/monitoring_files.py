"""Writing the rendered Prometheus and Alertmanager configs into the state directory.

The content comes from hubchaos.stack.monitoring (templates in
environments/monitoring); this module only decides the targets and paths.
"""

from __future__ import annotations

from hubchaos.stack import monitoring
from hubchaos.stack.endpoints import url
from hubchaos.stack.local.layout import Layout
from hubchaos.stack.local.parts import config_paths, prometheus_targets
from hubchaos.stack.ports import Ports


def write_monitoring_configs(layout: Layout, ports: Ports, replicas: int) -> None:
    targets = prometheus_targets(ports, replicas)
    paths = config_paths(layout)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    paths["prometheus"].write_text(
        monitoring.render_prometheus_config(
            app_targets=targets["apps"],
            exporter_target=targets["exporter"][0],
            proxy_target=targets["toxiproxy"][0],
            alertmanager_target=targets["alertmanager"][0],
            rules_files=monitoring.rules_files(),
        )
    )
    paths["alertmanager"].write_text(
        monitoring.render_alertmanager_config(webhook_url=f"{url(ports.receiver)}/alerts")
    )
