"""Notifications to mqtt:// endpoints go through a real Mosquitto broker."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import orjson
import pytest

from tests.kernel.context.subscriptions.conftest import Running, subscription
from tests.network import free_port

pytestmark = pytest.mark.anyio

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[int]:
    if MOSQUITTO is None:
        pytest.skip("the mosquitto binary is not installed (apt-get install mosquitto)")
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen(
        [MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield port
    finally:
        process.terminate()
        process.wait(5)


async def connected(port: int) -> aiomqtt.Client:
    """A client connected to the broker, retrying while it starts up."""
    for _ in range(200):
        client = aiomqtt.Client("127.0.0.1", port)
        try:
            await client.__aenter__()
            return client
        except aiomqtt.MqttError:
            await asyncio.sleep(0.02)
    raise TimeoutError("mosquitto did not start")


async def test_mqtt_endpoints_get_metadata_and_body(broker: int, running: Running) -> None:
    listener = await connected(broker)
    try:
        await listener.subscribe("city/air", qos=1)
        created = running.actions.create(
            "",
            subscription(
                f"mqtt://127.0.0.1:{broker}/city/air",
                notification={
                    "endpoint": {
                        "notifierInfo": [{"key": "MQTT-QoS", "value": "1"}],
                        "receiverInfo": [{"key": "X-Auth", "value": "k1"}],
                    }
                },
            ),
        )
        running.change(attributes={"NO2": 30})
        message = await asyncio.wait_for(anext(aiter(listener.messages)), 10)
        await running.notifier.drain()
    finally:
        await listener.__aexit__(None, None, None)
    payload = orjson.loads(bytes(message.payload))  # type: ignore[arg-type]
    assert payload["metadata"]["Content-Type"] == "application/json"
    assert payload["metadata"]["X-Auth"] == "k1"
    assert payload["body"]["subscriptionId"] == created.id
    assert payload["body"]["data"][0]["NO2"] == {"type": "Property", "value": 30}
    status = running.actions.retrieve("", created.id).status
    assert (status.times_sent, status.times_failed) == (1, 0)
