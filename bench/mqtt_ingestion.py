"""Benchmark: MQTT ingestion rate, publisher → Mosquitto → consumer → library.

    scripts/mosquitto start                       # prints mqtt://127.0.0.1:51883
    uv run python bench/mqtt_ingestion.py --url mqtt://127.0.0.1:51883 [--library real]

Publishers run in separate processes (so they do not share the consumer's interpreter)
and send UltraLight messages of five measures each over QoS 1. The rate is measurements
written through ``upsert_entities`` per second, from the first publish to the last write.
:func:`bench_mqtt` runs the ``real`` variant for ``bench/context.py``.
``--library count`` (default) counts the upserts, isolating the gateway; ``real`` writes
into ``ContextLibrary`` on a temporary SQLite store (``--database-url`` for another).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as paho

from smartcity.gateways.iot import IotAgent
from smartcity.gateways.iot.mqtt import BrokerAddress, MqttConsumer
from smartcity.kernel.clock import RealClock
from smartcity.kernel.storage import open_store

RESULTS = Path(__file__).resolve().parent / "results"
MEASURES_PER_MESSAGE = 5


class CountingLibrary:
    """Accepts upserts and counts them."""

    def __init__(self) -> None:
        self.entities = 0

    def upsert_entities(self, tenant: str, entities: Sequence[dict[str, Any]], mode: str) -> Any:
        self.entities += len(entities)
        return None


def publish(url: str, devices: Sequence[str], messages: int) -> None:
    """Send ``messages`` UltraLight messages round-robin over ``devices`` (QoS 1)."""
    broker = BrokerAddress.from_url(url)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(broker.host, broker.port)
    client.loop_start()
    info = None
    for index in range(messages):
        device = devices[index % len(devices)]
        value = index % 100
        payload = f"pm25|{value}|pm10|{value + 5}|no2|{value / 2}|o3|{value * 2}|t|{value / 4}"
        info = client.publish(f"/bench/{device}/attrs", payload, qos=1)
    if info is not None:
        info.wait_for_publish()
    client.loop_stop()
    client.disconnect()


async def run(
    url: str, library_kind: str, total_messages: int, publishers: int, database_url: str | None
) -> dict[str, Any]:
    """Measure one run; returns the figures."""
    store = open_store(database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
    store.migrate(["smartcity.gateways.iot.tables"])
    library: Any = CountingLibrary()
    if library_kind == "real":
        from smartcity.kernel.bus import open_bus
        from smartcity.kernel.context.library import ContextLibrary

        library = ContextLibrary(store, open_bus("local"), RealClock())
    agent = IotAgent(store, library, RealClock())
    devices = [f"aq-{n:04d}" for n in range(1000)]
    agent.provision(
        "",
        [{"device_id": d, "apikey": "bench", "entity_type": "AirQualityObserved"} for d in devices],
    )
    consumer = MqttConsumer(agent, BrokerAddress.from_url(url))
    await consumer.start()
    while not consumer.subscribed.is_set():
        await asyncio.sleep(0.01)
    per_publisher = total_messages // publishers
    started = time.perf_counter()
    processes = [
        multiprocessing.Process(target=publish, args=(url, devices[n::publishers], per_publisher))
        for n in range(publishers)
    ]
    for process in processes:
        process.start()
    expected = per_publisher * publishers * MEASURES_PER_MESSAGE
    while consumer.counts.measurements < expected:
        await asyncio.sleep(0.005)
    seconds = time.perf_counter() - started
    for process in processes:
        process.join()
    await consumer.stop()
    dialect = store.dialect
    store.close()
    return {
        "when": datetime.now(UTC).isoformat(),
        "library": library_kind,
        "database": dialect,
        "messages": per_publisher * publishers,
        "measurements": expected,
        "batches": consumer.counts.batches,
        "seconds": round(seconds, 3),
        "measurements_per_second": round(expected / seconds),
    }


def bench_mqtt(
    url: str = "mqtt://127.0.0.1:51883",
    *,
    messages: int = 40_000,
    publishers: int = 2,
    database_url: str | None = None,
) -> dict[str, float]:
    """Measurements per second written into the real library (empty SQLite by default)."""
    figures = asyncio.run(run(url, "real", messages, publishers, database_url))
    return {"mqtt_measurements_per_s": figures["measurements_per_second"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="mqtt://127.0.0.1:51883")
    parser.add_argument("--library", choices=["count", "real"], default="count")
    parser.add_argument("--messages", type=int, default=40_000)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="an empty database (default SQLite)")
    options = parser.parse_args()
    figures = asyncio.run(
        run(
            options.url, options.library, options.messages, options.publishers, options.database_url
        )
    )
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"mqtt_ingestion_{options.library}.json"
    target.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
