"""MQTT ingestion through a real Mosquitto broker (``scripts/mosquitto``)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from smartcity.api import create_app
from smartcity.gateways.iot import IotAgent
from smartcity.gateways.iot.mqtt import BrokerAddress, MqttConsumer, start_mqtt
from smartcity.gateways.iot.writer import ProcessWriter
from smartcity.kernel.bus import Event
from smartcity.kernel.config import Settings
from smartcity.kernel.context.events import EntityChanged
from smartcity.kernel.context.tables import context_instance, context_series
from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.platform import Platform
from tests.gateways.iot.conftest import DEFAULT, air_station
from tests.network import free_port

SCRIPT = Path(__file__).parents[3] / "scripts" / "mosquitto"
PATIENCE_SECONDS = 20.0
TENANT = {"NGSILD-Tenant": "env"}
TEMPERATURE = DEFAULT + "temperature"


@pytest.fixture(scope="module")
def broker_url() -> Iterator[str]:
    # The script's own run directory (under /tmp): a broker started as root runs as the
    # mosquitto user, which cannot enter pytest's private temporary tree.
    environment = {**os.environ, "SMARTCITY_MQTT_PORT": str(free_port())}
    started = subprocess.run(
        [str(SCRIPT), "start"], env=environment, capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        pytest.fail(
            f"could not start a Mosquitto broker with scripts/mosquitto (install Debian's "
            f"mosquitto package): {started.stderr.strip()[-500:]}"
        )
    yield started.stdout.strip()
    subprocess.run([str(SCRIPT), "stop"], env=environment, check=False)


async def _until(condition: object, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE_SECONDS
    while not condition():  # type: ignore[operator]
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def test_messages_on_device_topics_become_library_updates(
    broker_url: str, platform: Platform
) -> None:
    agent = IotAgent.for_platform(platform)
    agent.provision("env", [air_station()])
    broker = BrokerAddress.from_url(broker_url)

    async def scenario() -> MqttConsumer:
        consumer = MqttConsumer(agent, broker, batch_size=100, batch_seconds=0.02)
        await consumer.start()
        try:
            await _until(consumer.subscribed.is_set, "the subscription")
            async with aiomqtt.Client(broker.host, broker.port) as device:
                await device.publish("/k3y/aq-1/attrs", b'{"t": 21.5, "p": 30}', qos=1)
                await device.publish("/k3y/aq-1/attrs", b"t|22|p|31", qos=1)
                await device.publish("/k3y/aq-1/attrs/t", b"22.5", qos=1)
                await device.publish("/wrong/aq-1/attrs", b"t|1", qos=1)
                await device.publish("/k3y/aq-1/attrs", b"t|1|h", qos=1)
            await _until(lambda: consumer.counts.messages == 5, "five messages")
            await _until(lambda: consumer.counts.measurements == 5, "five measurements")
        finally:
            await consumer.stop()
        return consumer

    consumer = asyncio.run(scenario())

    assert consumer.counts.rejected == 2
    entity = platform.context.retrieve_entity("env", "urn:ngsi-ld:AirQualityObserved:aq-1")
    assert entity[DEFAULT + "pm25"][0]["value"] == 31
    with platform.store.connect() as conn:
        history = conn.execute(
            select(context_instance.c.value_number)
            .join(context_series, context_series.c.id == context_instance.c.series_id)
            .where(context_series.c.name == DEFAULT + "temperature")
            .order_by(context_instance.c.seq)
        ).scalars()
        assert list(history) == [21.5, 22, 22.5]


def test_the_server_consumes_mqtt_when_a_broker_url_is_set(
    broker_url: str, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTCITY_MQTT_URL", broker_url)
    application = create_app(platform)
    broker = BrokerAddress.from_url(broker_url)
    entity_url = "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:aq-1"

    async def publish() -> None:
        async with aiomqtt.Client(broker.host, broker.port) as device:
            await device.publish("/k3y/aq-1/attrs", b'{"t": 19.5}', qos=1)

    with TestClient(application) as client:
        consumer = application.state.iot_mqtt
        assert client.post("/iot/devices", json=air_station(), headers=TENANT).status_code == 201
        deadline = time.monotonic() + PATIENCE_SECONDS
        while not consumer.subscribed.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        asyncio.run(publish())
        while consumer.counts.measurements < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        answer = client.get(entity_url, params={"options": "keyValues"}, headers=TENANT)

    assert answer.status_code == 200, answer.text
    assert answer.json()["temperature"] == 19.5


def test_the_server_writes_mqtt_measures_in_a_worker_and_publishes_their_events(
    broker_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTCITY_MQTT_URL", broker_url)
    monkeypatch.setenv("SMARTCITY_MQTT_WRITER", "process")
    platform = Platform.open(Settings(data_dir=tmp_path))
    changed: list[EntityChanged] = []

    async def record(event: Event) -> None:
        changed.append(event)  # type: ignore[arg-type]

    platform.bus.subscribe(EntityChanged.topic, record)
    application = create_app(platform)
    broker = BrokerAddress.from_url(broker_url)

    async def publish() -> None:
        async with aiomqtt.Client(broker.host, broker.port) as device:
            await device.publish("/k3y/aq-1/attrs", b"t|18.5", qos=1)

    with TestClient(application) as client:
        consumer = application.state.iot_mqtt
        assert isinstance(consumer._writer, ProcessWriter)
        assert client.post("/iot/devices", json=air_station(), headers=TENANT).status_code == 201
        deadline = time.monotonic() + PATIENCE_SECONDS
        while not consumer.subscribed.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        asyncio.run(publish())
        while not any(TEMPERATURE in e.attributes for e in changed) and time.monotonic() < deadline:
            time.sleep(0.01)
        answer = client.get(
            "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:aq-1",
            params={"options": "keyValues"},
            headers=TENANT,
        )
    platform.store.close()

    assert answer.json()["temperature"] == 18.5
    assert [e.entity_id for e in changed if TEMPERATURE in e.attributes] == [
        "urn:ngsi-ld:AirQualityObserved:aq-1"
    ]


def test_broker_urls_are_checked() -> None:
    assert BrokerAddress.from_url("mqtts://u:p%40ss@broker.city:9883") == BrokerAddress(
        "broker.city", 9883, "u", "p@ss", tls=True
    )
    assert BrokerAddress.from_url("mqtt://127.0.0.1").port == 1883
    with pytest.raises(ConfigurationError, match="mqtt://host:1883"):
        BrokerAddress.from_url("http://127.0.0.1:1883")


def test_mqtt_is_off_without_a_url(monkeypatch: pytest.MonkeyPatch, platform: object) -> None:
    monkeypatch.delenv("SMARTCITY_MQTT_URL", raising=False)
    assert asyncio.run(start_mqtt(platform)) is None  # type: ignore[arg-type]
