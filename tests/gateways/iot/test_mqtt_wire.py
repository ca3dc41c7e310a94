"""The consumer's MQTT framing and connection (``gateways/iot/mqtt_wire.py``)."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.gateways.iot.mqtt import BrokerAddress, MqttConsumer
from smartcity.gateways.iot.mqtt_wire import (
    MqttSubscriber,
    MqttWireError,
    Packet,
    PacketReader,
    encode_length,
)

topics = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
)
publishes = st.tuples(topics, st.binary(max_size=300), st.integers(0, 2), st.integers(1, 65535))


def publish_packet(topic: str, payload: bytes, qos: int = 0, packet_id: int = 1) -> bytes:
    name = topic.encode()
    body = len(name).to_bytes(2, "big") + name
    if qos:
        body += packet_id.to_bytes(2, "big")
    body += payload
    return bytes([0x30 | qos << 1]) + encode_length(len(body)) + body


def read_all(chunks: list[bytes]) -> tuple[list[tuple[str, bytes, int, int]], list[Packet]]:
    received: list[tuple[str, bytes, int, int]] = []
    reader = PacketReader(lambda *message: received.append(message))
    others = [packet for chunk in chunks for packet in reader.feed(chunk)]
    return received, others


@given(st.lists(publishes, max_size=20), st.lists(st.integers(0, 10_000), max_size=8))
def test_messages_come_out_whole_however_the_stream_is_cut(
    messages: list[tuple[str, bytes, int, int]], cuts: list[int]
) -> None:
    stream = b"".join(publish_packet(*message) for message in messages)
    points = sorted({0, len(stream), *(cut % (len(stream) + 1) for cut in cuts)})
    chunks = [stream[a:b] for a, b in itertools.pairwise(points)]

    received, others = read_all(chunks)

    expected = [(t, p, q, i if q else 0) for t, p, q, i in messages]
    assert received == expected
    assert others == []


def test_other_packets_are_returned_between_messages() -> None:
    stream = (
        b"\x20\x02\x00\x00"  # CONNACK
        + publish_packet("/k/d/attrs", b"t|1")
        + b"\xd0\x00"  # PINGRESP
        + publish_packet("/k/d/attrs", b"t|2", qos=1, packet_id=7)
    )

    received, others = read_all([stream[:3], stream[3:]])

    assert [payload for _t, payload, _q, _i in received] == [b"t|1", b"t|2"]
    assert [(packet.kind, packet.body) for packet in others] == [(2, b"\x00\x00"), (13, b"")]


def test_a_length_of_more_than_four_bytes_is_refused() -> None:
    with pytest.raises(MqttWireError, match="remaining length"):
        read_all([b"\x30\xff\xff\xff\xff\x01"])


def test_a_publish_whose_topic_overruns_the_packet_is_refused() -> None:
    with pytest.raises(MqttWireError, match="malformed"):
        read_all([b"\x30\x03\x00\x09a" + b"\x30\x00"])


def test_a_subscriber_receives_acknowledges_and_notices_the_broker_leaving() -> None:
    """Against a scripted broker: log in, subscribe, three messages in one write, goodbye."""
    seen_by_broker: list[bytes] = []

    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen_by_broker.append(await reader.read(1024))  # CONNECT
        writer.write(b"\x20\x02\x00\x00")
        subscribe = await reader.read(1024)
        seen_by_broker.append(subscribe)
        writer.write(b"\x90\x03" + subscribe[2:4] + b"\x00")
        writer.write(
            publish_packet("/k/a/attrs", b"t|1")
            + publish_packet("/k/b/attrs", b"t|2", qos=1, packet_id=300)
            + publish_packet("/k/c/attrs", b"t|3")
        )
        await writer.drain()
        seen_by_broker.append(await reader.readexactly(4))  # the PUBACK
        writer.close()

    async def scenario() -> list[tuple[str, bytes]]:
        server = await asyncio.start_server(broker, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        received: list[tuple[str, bytes]] = []
        subscriber = await MqttSubscriber.open(
            lambda topic, payload: received.append((topic, payload)),
            "127.0.0.1",
            port,
            username="u",
            password="p",
        )
        await subscriber.subscribe(["$share/g/+/+/attrs"])
        with pytest.raises(MqttWireError, match="lost"):
            await asyncio.wait_for(subscriber.closed(), 5)
        subscriber.close()
        server.close()
        await server.wait_closed()
        return received

    received = asyncio.run(scenario())

    assert received == [("/k/a/attrs", b"t|1"), ("/k/b/attrs", b"t|2"), ("/k/c/attrs", b"t|3")]
    connect, subscribe, puback = seen_by_broker
    assert connect[0] == 0x10 and b"MQTT\x04\xc2" in connect  # clean session, user, password
    assert subscribe[0] == 0x82 and b"$share/g/+/+/attrs\x00" in subscribe
    assert puback == b"\x40\x02\x01\x2c"


def test_a_refused_login_and_a_closed_port_are_wire_errors() -> None:
    async def refusing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(b"\x20\x02\x00\x05")
        await writer.drain()

    async def scenario() -> None:
        server = await asyncio.start_server(refusing, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(MqttWireError, match="not authorized"):
            await MqttSubscriber.open(lambda *_: None, "127.0.0.1", port)
        server.close()
        await server.wait_closed()
        with pytest.raises(MqttWireError, match="cannot connect"):
            await MqttSubscriber.open(lambda *_: None, "127.0.0.1", port)

    asyncio.run(scenario())


def test_a_message_the_sink_cannot_take_costs_only_itself() -> None:
    received: list[bytes] = []

    def sink(topic: str, payload: bytes) -> None:
        if payload == b"boom":
            raise RuntimeError("the registry is unreachable")
        received.append(payload)

    async def scenario() -> None:
        subscriber = MqttSubscriber(sink)
        subscriber.data_received(
            publish_packet("/k/a/attrs", b"t|1")
            + publish_packet("/k/a/attrs", b"boom")
            + publish_packet("/k/a/attrs", b"t|2")
        )

    asyncio.run(scenario())

    assert received == [b"t|1", b"t|2"]


def test_the_consumer_reconnects_when_the_broker_drops_it() -> None:
    """The first connection ends after its subscription; the second delivers a message."""

    connections: list[int] = []

    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await reader.read(1024)
        writer.write(b"\x20\x02\x00\x00")
        subscribe = await reader.read(1024)
        writer.write(b"\x90\x04" + subscribe[2:4] + b"\x00\x00")
        if len(connections) > 1:
            writer.write(publish_packet("/k3y/aq-1/attrs", b"t|1"))
            await writer.drain()
            await reader.read(1024)  # until the consumer leaves
        writer.close()

    class Agent:
        def ultralight_updates(self, api_key: str, device_id: str, text: str) -> list[str]:
            return [f"{api_key}/{device_id}: {text}"]

    async def scenario() -> list[str]:
        server = await asyncio.start_server(broker, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        address = BrokerAddress("127.0.0.1", port)
        consumer = MqttConsumer(Agent(), address, batch_seconds=60)  # type: ignore[arg-type]
        await consumer.start()
        try:
            for _ in range(500):
                if consumer._pending:
                    break
                await asyncio.sleep(0.01)
            pending = list(consumer._pending)
            consumer._pending.clear()
        finally:
            await consumer.stop()
            server.close()
            await server.wait_closed()
        return pending  # type: ignore[return-value]

    assert asyncio.run(scenario()) == ["k3y/aq-1: t|1"]
    assert len(connections) == 2
