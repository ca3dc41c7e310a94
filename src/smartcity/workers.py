"""Several serving processes, each accepting on a listening socket of its own.

uvicorn's supervisor binds one socket and hands it to every worker: they all accept on
it, and the one awake when a burst of connections arrives takes most of them (wrk's 16
connections fell 2 / 14 or 5 / 11 on two workers, moving the PATCH rate by ±30% from
run to run). With ``SO_REUSEPORT`` every worker listens on a socket of its own bound to
the same address, and the kernel spreads the connections over them by a hash of each
connection's addresses (decision 0015, addendum 6).

The supervisor is uvicorn's own (restarts, health checks, graceful shutdown): it hands
each worker it starts the socket :func:`reserve_port` bound, and the worker receives, in
its place, a new socket bound to the same address (:class:`SharedPortSocket`). The
supervisor's socket only holds the port (it never listens, so it is given no connection)
and is closed when the workers are gone.

This module stays light (no import of the application): a worker unpickles its socket
before it answers the supervisor's health checks.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

# uvicorn's own logger: its configuration shows it where uvicorn says it is running.
log = logging.getLogger("uvicorn.error")


def port_sharing_supported() -> bool:
    """Whether this system lets several sockets listen on one address (``SO_REUSEPORT``)."""
    return hasattr(socket, "SO_REUSEPORT")


class SharedPortSocket(socket.socket):
    """A socket bound with ``SO_REUSEPORT``; a process receiving it binds a new one.

    Sent to a worker process (pickled by ``multiprocessing``), it arrives as a new socket
    bound to the same address: every worker listens on its own, and the kernel spreads
    connections over them (a copy of one socket would be one queue for all workers).
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return bind_shared, (self.family, self.getsockname())


def bind_shared(family: int, address: Any) -> SharedPortSocket:
    """A new socket bound to ``address`` with ``SO_REUSEPORT``, to be listened on."""
    sock = SharedPortSocket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def reserve_port(host: str, port: int) -> SharedPortSocket:
    """The supervisor's socket: holds ``host:port`` (port 0: a free one) for its workers.

    Raises ``OSError`` when anything listens there already, another server's shared
    sockets too: an ordinary bind, which no ``SO_REUSEPORT`` socket admits, tries first.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        address = probe.getsockname()
    return bind_shared(family, address)


def serve_workers(config: Any) -> None:
    """Run ``config.workers`` uvicorn workers, each on its own socket, until stopped.

    ``config`` is a ``uvicorn.Config`` naming its application as an import string.
    """
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    try:
        sock = reserve_port(config.host, config.port)
    except OSError as error:  # as uvicorn's own bind: the address in use, say, and exit
        log.error("cannot listen on %s:%s: %s", config.host, config.port, error)
        sys.exit(STARTUP_FAILURE)
    host, port = sock.getsockname()[:2]
    log.info("serving on http://%s:%d with %d workers, one socket each", host, port, config.workers)
    try:
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:  # pragma: no cover - the supervisor handles SIGINT itself
        pass
    finally:
        sock.close()
