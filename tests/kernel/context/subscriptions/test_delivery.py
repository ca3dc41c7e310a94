"""The HTTP sender copes with the answers real endpoints give."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from smartcity.kernel.context.subscriptions.delivery import DeliveryFailed, HttpSender
from smartcity.kernel.context.subscriptions.model import Endpoint

pytestmark = pytest.mark.anyio

Answer = Callable[[int], bytes]


async def serve(answer: Answer) -> tuple[asyncio.Server, list[bytes]]:
    """A server answering its n-th request with ``answer(n)``, then as the answer says."""
    requests: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                requests.append(head + await reader.readexactly(length))
                reply = answer(len(requests))
                writer.write(reply)
                await writer.drain()
                if b"close" in reply.lower() or b"HTTP/1.0" in reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, requests


@pytest.fixture
async def sender() -> AsyncIterator[HttpSender]:
    sender = HttpSender(timeout=5.0)
    yield sender
    await sender.close()


def endpoint(server: asyncio.Server, path: str = "/notify?x=1") -> Endpoint:
    port = server.sockets[0].getsockname()[1]
    return Endpoint(uri=f"http://127.0.0.1:{port}{path}")


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    ],
)
async def test_successful_answers(sender: HttpSender, reply: bytes) -> None:
    server, requests = await serve(lambda _n: reply)
    async with server:
        for _ in range(3):
            await sender.send(endpoint(server), {"X-Auth": "k1"}, b'{"a": 1}')
    assert len(requests) == 3
    first = requests[0].decode()
    assert first.startswith("POST /notify?x=1 HTTP/1.1\r\n")
    assert "X-Auth: k1\r\n" in first
    assert first.endswith('\r\n\r\n{"a": 1}')


async def test_error_statuses_fail(sender: HttpSender) -> None:
    server, _ = await serve(lambda _n: b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n")
    async with server:
        with pytest.raises(DeliveryFailed, match="503"):
            await sender.send(endpoint(server), {}, b"{}")


async def test_a_closed_kept_alive_connection_is_replaced(sender: HttpSender) -> None:
    # The first answer keeps the connection; the server then drops it unannounced.
    server, requests = await serve(lambda _n: b"HTTP/1.1 204 No Content\r\n\r\n")
    async with server:
        await sender.send(endpoint(server), {}, b"{}")
        for pool in sender._idle.values():
            for _, writer in pool:
                writer.transport.abort()
        await sender.send(endpoint(server), {}, b"{}")
    assert len(requests) == 2
