"""Serving workers each on a socket of their own, sharing one port (``SO_REUSEPORT``)."""

from __future__ import annotations

import io
import pickle
import socket
from multiprocessing.reduction import ForkingPickler

import pytest

from smartcity.workers import port_sharing_supported, reserve_port

pytestmark = pytest.mark.skipif(not port_sharing_supported(), reason="no SO_REUSEPORT here")


def sent_to_worker(sock: socket.socket) -> socket.socket:
    """``sock`` as a worker process receives it (pickled as ``multiprocessing`` does)."""
    buffer = io.BytesIO()
    ForkingPickler(buffer).dump(sock)
    received: socket.socket = pickle.loads(buffer.getvalue())
    return received


def test_each_worker_listens_on_a_socket_of_its_own_at_the_reserved_address() -> None:
    reserved = reserve_port("127.0.0.1", 0)
    workers = [sent_to_worker(reserved) for _ in range(2)]
    try:
        address = reserved.getsockname()
        assert [w.getsockname() for w in workers] == [address, address]
        assert len({reserved.fileno(), *(w.fileno() for w in workers)}) == 3
        for worker in workers:
            worker.listen(16)
            worker.settimeout(0)
        # Connections reach the workers' sockets (the reserved one never listens).
        clients = [socket.create_connection(address, timeout=5) for _ in range(8)]
        accepted = 0
        for worker in workers:
            while True:
                try:
                    connection, _ = worker.accept()
                except BlockingIOError:
                    break
                connection.close()
                accepted += 1
        assert accepted == len(clients)
        for client in clients:
            client.close()
    finally:
        for sock in [reserved, *workers]:
            sock.close()


def test_the_port_is_free_once_every_socket_closed() -> None:
    reserved = reserve_port("127.0.0.1", 0)
    worker = sent_to_worker(reserved)
    worker.listen(1)
    address = reserved.getsockname()
    worker.close()
    reserved.close()
    # A plain socket (no SO_REUSEPORT) binds the port again: nothing holds it.
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        plain.bind(address)
    finally:
        plain.close()


def test_a_port_another_program_holds_is_refused() -> None:
    other = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    other.bind(("127.0.0.1", 0))
    other.listen(1)
    try:
        with pytest.raises(OSError):
            reserve_port("127.0.0.1", other.getsockname()[1])
    finally:
        other.close()


def test_a_port_another_server_shares_among_its_workers_is_refused() -> None:
    first = reserve_port("127.0.0.1", 0)
    worker = sent_to_worker(first)
    worker.listen(1)
    try:
        with pytest.raises(OSError):
            reserve_port("127.0.0.1", first.getsockname()[1])
    finally:
        worker.close()
        first.close()
