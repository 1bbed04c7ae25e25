"""The hub stack as containers through the Docker API (`hubchaos up --env docker`).

stack       DockerStack: the driver
faults      container faults (stop, pause, kill ...) and logs of one service
health      host-side checks and `hubchaos status` of the containers
compose     reading environments/docker/compose.yaml (no compose CLI needed)
variables   the ${HUBCHAOS_*} values the compose file is interpolated with
config      the Prometheus, Alertmanager and Toxiproxy configs the containers mount
containers  one compose project's containers and network
images      building and pulling the images; `prepare` builds them ahead of time
"""

from hubchaos.stack.docker.stack import DockerStack

__all__ = ["DockerStack"]
