"""Run the app on uvicorn, on a socket we bind ourselves so a busy port is a clear error."""

from __future__ import annotations

import socket

import uvicorn

from learninghub.app import create_app
from learninghub.errors import ConfigError
from learninghub.logs import configure_logging
from learninghub.settings import Settings


def bind(host: str, port: int, shared: bool = False) -> socket.socket:
    """A listening socket; `shared` lets every replica bind the same port (SO_REUSEPORT).

    On a shared port the kernel spreads new connections over the live replicas,
    as Docker's DNS does for the `app` service: the local front door balances.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror}): choose a free --port"
        ) from None
    sock.set_inheritable(True)
    return sock


def serve(host: str, port: int, settings: Settings, shared_port: int | None = None) -> None:
    """Serve on `port` (this replica alone) and, if given, on `shared_port` (every replica)."""
    configure_logging(settings.pool_name, settings.log_level)
    sockets = [bind(host, port)]
    if shared_port:
        sockets.append(bind(host, shared_port, shared=True))
    config = uvicorn.Config(
        create_app(settings),
        log_config=None,  # logs.configure_logging already routes uvicorn's loggers
        access_log=False,  # our middleware writes the access log with route templates
        lifespan="on",
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    try:
        uvicorn.Server(config).run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()
