"""Sending one notification to an endpoint over HTTP or MQTT.

A sender raises :class:`DeliveryFailed` when the endpoint did not take the
notification; the notifier decides about retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt
import orjson

from smartcity.kernel.context.subscriptions.model import Endpoint
from smartcity.kernel.context.subscriptions.validation import QOS_KEY

MQTT_DEFAULT_PORT = 1883
MQTTS_DEFAULT_PORT = 8883


class DeliveryFailed(Exception):
    """The endpoint refused, did not answer in time or could not be reached."""


Origin = tuple[str, str, int]
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
MAXIMUM_HEAD = 64 * 1024
MAXIMUM_RESPONSE_BODY = 1024 * 1024


class HttpSender:
    """POSTs notifications over HTTP/1.1 with kept-alive connections per origin.

    A small client on asyncio streams rather than a general one: a notification is one
    POST whose answer only matters by its status, and on this hot path the general
    client cost over ten times more CPU per request (measured: about 1 ms against 80 us),
    which the event loop of every other endpoint would pay.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._idle: dict[Origin, list[Connection]] = {}

    async def send(self, endpoint: Endpoint, headers: Mapping[str, str], body: bytes) -> None:
        """POST ``body``; any answer but 2xx is a failure."""
        parts = urlsplit(endpoint.uri)
        if parts.hostname is None:
            raise DeliveryFailed(f"{endpoint.uri} names no host")
        secure = parts.scheme.lower() == "https"
        origin = (parts.scheme.lower(), parts.hostname, parts.port or (443 if secure else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.netloc.rpartition("@")[2]
        lines = [f"POST {target} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        pool = self._idle.setdefault(origin, [])
        # A kept-alive connection the server has meanwhile closed fails at once; such a
        # failure earns one more try on a fresh connection, any other does not.
        while pool:
            connection = pool.pop()
            try:
                status, keep = await asyncio.wait_for(
                    self._exchange(connection, request), self._timeout
                )
            except (OSError, EOFError, asyncio.IncompleteReadError):
                connection[1].close()
                continue
            except (ValueError, TimeoutError) as exc:
                # A slow or garbled answer is the endpoint's, not the connection's age.
                connection[1].close()
                raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
            self._release(origin, connection, keep)
            self._check(status)
            return
        try:
            connection = await asyncio.wait_for(self._open(origin, secure), self._timeout)
            status, keep = await asyncio.wait_for(
                self._exchange(connection, request), self._timeout
            )
        except (OSError, EOFError, asyncio.IncompleteReadError, ValueError, TimeoutError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        self._release(origin, connection, keep)
        self._check(status)

    @staticmethod
    def _check(status: int) -> None:
        if not 200 <= status < 300:
            raise DeliveryFailed(f"endpoint answered {status}")

    def _release(self, origin: Origin, connection: Connection, keep: bool) -> None:
        if keep:
            self._idle.setdefault(origin, []).append(connection)
        else:
            connection[1].close()

    @staticmethod
    async def _open(origin: Origin, secure: bool) -> Connection:
        _, host, port = origin
        if secure:
            return await asyncio.open_connection(
                host, port, ssl=ssl.create_default_context(), server_hostname=host
            )
        return await asyncio.open_connection(host, port)

    @staticmethod
    async def _exchange(connection: Connection, request: bytes) -> tuple[int, bool]:
        """Send one request and read its answer; the status and whether to keep the
        connection."""
        reader, writer = connection
        writer.write(request)
        await writer.drain()
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > MAXIMUM_HEAD:
                raise ValueError("response head too large")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            version, _, rest = status_line.partition(" ")
            status = int(rest[:3])
            fields: dict[str, str] = {}
            for line in header_lines:
                name, separator, value = line.partition(":")
                if separator:
                    fields[name.strip().lower()] = value.strip()
            if 100 <= status < 200:
                continue  # an interim answer (100 Continue); the final one follows
            break
        keep = version == "HTTP/1.1" and fields.get("connection", "").lower() != "close"
        if "chunked" in fields.get("transfer-encoding", "").lower():
            await _skip_chunks(reader)
        elif "content-length" in fields:
            length = int(fields["content-length"])
            if length > MAXIMUM_RESPONSE_BODY:
                raise ValueError("response body too large")
            await reader.readexactly(length)
        elif status not in (204, 304):
            # No length: the body runs to the end of the connection.
            await reader.read(MAXIMUM_RESPONSE_BODY)
            keep = False
        return status, keep

    async def close(self) -> None:
        """Close every kept-alive connection."""
        for pool in self._idle.values():
            for _, writer in pool:
                writer.close()
        self._idle.clear()


async def _skip_chunks(reader: asyncio.StreamReader) -> None:
    total = 0
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        total += size
        if total > MAXIMUM_RESPONSE_BODY:
            raise ValueError("response body too large")
        if size == 0:
            # Trailers, if any, end with an empty line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return
        await reader.readexactly(size + 2)


class MqttSender:
    """Publishes ``{"metadata": headers, "body": notification}`` to ``mqtt(s)://host:port/topic``.

    One connection per broker address, opened on first use and reopened after a failure.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._clients: dict[tuple[str, int, str | None], aiomqtt.Client] = {}

    async def send(
        self, endpoint: Endpoint, headers: Mapping[str, str], notification: Mapping[str, Any]
    ) -> None:
        """Publish the notification with the QoS asked for in ``notifierInfo`` (default 0)."""
        parts = urlsplit(endpoint.uri)
        topic = unquote(parts.path.lstrip("/"))
        if not topic or parts.hostname is None:
            raise DeliveryFailed(f"{endpoint.uri} names no broker host and topic")
        secure = parts.scheme.lower() == "mqtts"
        port = parts.port or (MQTTS_DEFAULT_PORT if secure else MQTT_DEFAULT_PORT)
        key = (parts.hostname, port, parts.username)
        qos = int(dict(endpoint.notifier_info).get(QOS_KEY, "0"))
        payload = orjson.dumps({"metadata": dict(headers), "body": notification})
        try:
            client = self._clients.get(key)
            if client is None:
                client = aiomqtt.Client(
                    parts.hostname,
                    port,
                    username=unquote(parts.username) if parts.username else None,
                    password=unquote(parts.password) if parts.password else None,
                    tls_context=ssl.create_default_context() if secure else None,
                    timeout=self._timeout,
                )
                await asyncio.wait_for(client.__aenter__(), self._timeout)
                self._clients[key] = client
            await asyncio.wait_for(client.publish(topic, payload, qos=qos), self._timeout)
        except (aiomqtt.MqttError, OSError, TimeoutError) as exc:
            await self._forget(key)
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc

    async def _forget(self, key: tuple[str, int, str | None]) -> None:
        client = self._clients.pop(key, None)
        if client is not None:
            # The connection is already broken or closing; there is nothing to keep.
            with contextlib.suppress(Exception):
                await client.__aexit__(None, None, None)

    async def close(self) -> None:
        """Disconnect from every broker."""
        for key in list(self._clients):
            await self._forget(key)
