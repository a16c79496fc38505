"""The server's listening socket, bound before anything else starts, so that a busy port is one clear line
(and not a traceback after the database was migrated and the app built)."""

from __future__ import annotations

import errno
import socket


class PortInUse(Exception):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"port {port} on {host} is already in use; choose another with `kinline serve --port N`,"
            f" `KINLINE_PORT=N`, or `port` in a config file"
        )


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A bound, listening TCP socket for ``host``:``port``; IPv4 or IPv6 by what the host resolves to."""
    family, _, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    try:
        listener = socket.create_server(address, family=family, backlog=backlog)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(host, port) from None
        raise
    listener.set_inheritable(False)
    return listener


def url_of(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"
