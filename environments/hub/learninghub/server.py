"""Run the app on uvicorn, on a socket we bind ourselves so a busy port is a clear error."""

from __future__ import annotations

import socket

import uvicorn

from learninghub.app import create_app
from learninghub.errors import ConfigError
from learninghub.logs import configure_logging
from learninghub.settings import Settings


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror}): choose a free --port"
        ) from None
    sock.set_inheritable(True)
    return sock


def serve(host: str, port: int, settings: Settings) -> None:
    configure_logging(settings.pool_name, settings.log_level)
    sock = bind(host, port)
    config = uvicorn.Config(
        create_app(settings),
        log_config=None,  # logs.configure_logging already routes uvicorn's loggers
        access_log=False,  # our middleware writes the access log with route templates
        lifespan="on",
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
