"""The MQTT 3.1.1 subscriber the device consumer reads with: connection and packet framing.

The consumer only subscribes and receives, so it needs a small part of the protocol:
CONNECT (clean session, optional user and password, optional TLS), SUBSCRIBE, PINGREQ to
keep the connection alive, DISCONNECT, and PUBLISH packets in. paho (under aiomqtt)
reads a packet with three ``recv`` calls and one event-loop round, then builds a message
object, a topic object and a callback lookup for it: about 30 µs per message, a sixth of
the gateway's CPU per measure. Here the broker's stream arrives in large chunks
(``asyncio.Protocol``) and :class:`PacketReader` cuts every complete PUBLISH out of a
chunk in one loop, handing ``(topic, payload)`` to the consumer.

QoS 1 and 2 deliveries are acknowledged as the protocol requires, although the consumer
subscribes at QoS 0 (decision 0011) and the broker then sends none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

log = logging.getLogger(__name__)

# Control packet types (the high nibble of a packet's first byte).
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 12, 13, 14
KEEPALIVE_SECONDS = 60
ANSWER_SECONDS = 10.0
# A packet longer than this is refused (the protocol allows 256 MB).
MAX_PACKET_BYTES = 1 << 20
CONNACK_REASONS = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}

Sink = Callable[[str, bytes], None]


class MqttWireError(Exception):
    """The broker refused us, broke the protocol, or the connection is gone."""


@dataclass(frozen=True)
class Packet:
    """A control packet other than PUBLISH: its first byte and its body."""

    first: int
    body: bytes

    @property
    def kind(self) -> int:
        """The control packet type."""
        return self.first >> 4


class PacketReader:
    """Cuts MQTT packets out of a byte stream fed in chunks of any size.

    ``feed`` hands each PUBLISH to ``on_publish(topic, payload, qos, packet_id)`` as
    soon as its last byte arrives and returns the other packets; an incomplete packet
    waits for the next chunk.
    """

    def __init__(self, on_publish: Callable[[str, bytes, int, int], None]) -> None:
        self.on_publish = on_publish
        self._buffer = b""

    def feed(self, data: bytes) -> list[Packet]:
        """Take a chunk; returns the non-PUBLISH packets it completed, in order."""
        buffer = self._buffer + data if self._buffer else data
        size = len(buffer)
        position = 0
        others: list[Packet] = []
        on_publish = self.on_publish
        while size - position >= 2:
            first = buffer[position]
            header = _remaining_length(buffer, position + 1, size)
            if header is None:
                break  # the length itself is not complete yet
            length, index = header
            if length > MAX_PACKET_BYTES:
                raise MqttWireError(f"a packet of {length} bytes is longer than allowed")
            end = index + length
            if end > size:
                break
            if first >> 4 == PUBLISH:
                qos = (first >> 1) & 3
                if length < 2 or qos == 3:
                    raise MqttWireError("a PUBLISH packet is malformed")
                topic_end = index + 2 + ((buffer[index] << 8) | buffer[index + 1])
                start = topic_end + 2 if qos else topic_end
                if start > end:
                    raise MqttWireError("a PUBLISH packet is malformed")
                packet_id = (buffer[topic_end] << 8) | buffer[topic_end + 1] if qos else 0
                try:
                    topic = buffer[index + 2 : topic_end].decode()
                except UnicodeDecodeError:
                    raise MqttWireError("a PUBLISH topic is not UTF-8") from None
                on_publish(topic, buffer[start:end], qos, packet_id)
            else:
                others.append(Packet(first, buffer[index:end]))
            position = end
        self._buffer = buffer[position:]
        return others


def _remaining_length(buffer: bytes, index: int, size: int) -> tuple[int, int] | None:
    """The remaining length at ``index`` and where the packet's body starts; None: cut off.

    1 to 4 bytes of 7 bits each, least significant first, the high bit meaning "more".
    """
    length = 0
    shift = 0
    while index < size:
        byte = buffer[index]
        index += 1
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            return length, index
        shift += 7
        if shift > 21:
            raise MqttWireError("a packet's remaining length is longer than 4 bytes")
    return None


def encode_length(length: int) -> bytes:
    """MQTT's variable-length encoding of a remaining length."""
    encoded = bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(encoded)


def _text(value: str) -> bytes:
    data = value.encode()
    return len(data).to_bytes(2, "big") + data


def connect_packet(
    client_id: str, keepalive: int, username: str | None, password: str | None
) -> bytes:
    """CONNECT with a clean session (MQTT 3.1.1)."""
    flags = 0x02
    payload = _text(client_id)
    if username is not None:
        flags |= 0x80
        payload += _text(username)
        if password is not None:
            flags |= 0x40
            payload += _text(password)
    variable = _text("MQTT") + bytes([4, flags]) + keepalive.to_bytes(2, "big")
    body = variable + payload
    return bytes([CONNECT << 4]) + encode_length(len(body)) + body


def subscribe_packet(packet_id: int, topics: Sequence[str], qos: int) -> bytes:
    """SUBSCRIBE to ``topics`` at ``qos``."""
    body = packet_id.to_bytes(2, "big") + b"".join(_text(t) + bytes([qos]) for t in topics)
    return bytes([(SUBSCRIBE << 4) | 0x02]) + encode_length(len(body)) + body


class MqttSubscriber(asyncio.Protocol):
    """One connection to a broker that subscribes and hands every message to ``sink``.

    Use :meth:`open`, then :meth:`subscribe`, then await :meth:`closed`, which raises
    :class:`MqttWireError` when the connection is lost; :meth:`close` ends it.
    """

    def __init__(self, sink: Sink, keepalive: int = KEEPALIVE_SECONDS) -> None:
        self.sink = sink
        self.keepalive = keepalive
        self._reader = PacketReader(self._publish)
        self._transport: asyncio.Transport | None = None
        self._answers: asyncio.Queue[Packet] = asyncio.Queue()
        self._lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._heard = True
        self._pinger: asyncio.Task[None] | None = None
        self._next_id = 0

    @classmethod
    async def open(
        cls,
        sink: Sink,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
        keepalive: int = KEEPALIVE_SECONDS,
    ) -> MqttSubscriber:
        """Connect and log in; :class:`MqttWireError` if the broker says no."""
        loop = asyncio.get_running_loop()
        try:
            _transport, protocol = await asyncio.wait_for(
                loop.create_connection(
                    lambda: cls(sink, keepalive),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls else None,
                ),
                ANSWER_SECONDS,
            )
        except (OSError, TimeoutError) as error:
            raise MqttWireError(f"cannot connect to {host}:{port}: {error}") from error
        client_id = f"smartcity-iot-{uuid.uuid4().hex[:16]}"
        protocol._send(connect_packet(client_id, keepalive, username, password))
        answer = await protocol._answer(CONNACK)
        code = answer.body[1] if len(answer.body) == 2 else -1
        if code != 0:
            protocol.close()
            reason = CONNACK_REASONS.get(code, f"return code {code}")
            raise MqttWireError(f"the broker refused the connection: {reason}")
        protocol._pinger = loop.create_task(protocol._ping(), name="mqtt-ping")
        return protocol

    async def subscribe(self, topics: Sequence[str], qos: int = 0) -> None:
        """Subscribe to ``topics``; :class:`MqttWireError` if the broker refuses one."""
        self._next_id = self._next_id % 0xFFFF + 1
        self._send(subscribe_packet(self._next_id, topics, qos))
        answer = await self._answer(SUBACK)
        if 0x80 in answer.body[2:]:
            raise MqttWireError(f"the broker refused a subscription to {list(topics)}")

    async def closed(self) -> None:
        """Wait until the connection ends; raises :class:`MqttWireError` saying why."""
        await asyncio.shield(self._lost)

    def close(self) -> None:
        """Say goodbye and close the connection."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(bytes([DISCONNECT << 4, 0]))
            self._transport.close()
        if self._pinger is not None:
            self._pinger.cancel()

    # asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # create_connection makes stream transports.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._heard = True
        try:
            packets = self._reader.feed(data)
        except MqttWireError as error:
            self._lose(error)
            return
        for packet in packets:
            if packet.kind == PUBREL:
                self._send(bytes([PUBCOMP << 4, 2]) + packet.body[:2])
            elif packet.kind != PINGRESP:
                self._answers.put_nowait(packet)

    def connection_lost(self, exc: Exception | None) -> None:
        self._lose(MqttWireError(f"the connection was lost: {exc or 'closed'}"))

    # Internals -------------------------------------------------------------------------

    def _publish(self, topic: str, payload: bytes, qos: int, packet_id: int) -> None:
        if qos == 1:
            self._send(bytes([PUBACK << 4, 2]) + packet_id.to_bytes(2, "big"))
        elif qos == 2:
            self._send(bytes([PUBREC << 4, 2]) + packet_id.to_bytes(2, "big"))
        try:
            self.sink(topic, payload)
        except Exception:
            # One message the consumer could not take (a database error looking up its
            # device, say) is dropped; the connection and the messages after it stay.
            log.exception("MQTT message on %s could not be taken", topic)

    def _send(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def _lose(self, error: MqttWireError) -> None:
        if not self._lost.done():
            self._lost.set_exception(error)
            # Retrieved here so that an unawaited loss is not logged as never retrieved.
            self._lost.exception()
        if self._transport is not None:
            self._transport.close()
        if self._pinger is not None:
            self._pinger.cancel()

    async def _answer(self, kind: int) -> Packet:
        getting = asyncio.ensure_future(self._answers.get())
        either: set[asyncio.Future[Any]] = {getting, self._lost}
        await asyncio.wait(either, timeout=ANSWER_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        if not getting.done():
            getting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await getting
            self._lose(MqttWireError("the broker did not answer in time"))
            await self._lost  # raises why the connection ended
        packet = getting.result()
        if packet.kind != kind:
            self._lose(MqttWireError(f"expected packet type {kind}, got {packet.kind}"))
            await self._lost
        return packet

    async def _ping(self) -> None:
        # The broker drops a client silent for 1.5 keepalives; a consumer only receives,
        # so it pings. Nothing heard for a whole interval: the connection is gone.
        while True:
            await asyncio.sleep(self.keepalive / 2)
            if not self._heard:
                self._lose(MqttWireError("the broker stopped answering"))
                return
            self._heard = False
            self._send(bytes([PINGREQ << 4, 0]))
