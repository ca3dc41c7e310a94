"""Benchmark: MQTT ingestion rate, publisher → Mosquitto → consumer → library.

    scripts/mosquitto start                       # prints mqtt://127.0.0.1:51883
    uv run python bench/mqtt_ingestion.py --url mqtt://127.0.0.1:51883 [--library real]

Publishers run in separate processes (so they do not share the consumer's interpreter)
and send UltraLight messages of five measures each over QoS 1: ``--publisher raw``
(default) writes pre-encoded MQTT packets on a socket, ``paho`` uses the paho client
(~100 µs of Python per message, which competes with the consumer on a small machine).
The rate is measurements written through ``upsert_entities`` per second, from the first
publish to the last write. :func:`bench_mqtt` runs the ``real`` variant for
``bench/context.py``. ``--library count`` (default) counts the upserts, isolating the
gateway; ``real`` writes into ``ContextLibrary`` on a temporary SQLite store
(``--database-url`` for another), in a thread (``--writer thread``, the server's
default) or a worker process (``--writer process``, see gateways/iot/writer.py).
To compare with older code, put its ``src`` first on ``PYTHONPATH`` (``--writer thread``).

The consumer runs in the served process, whose garbage collector is tuned once it has
started (``api/collector.py``); the bench does the same (``--collector default`` leaves
CPython's). Besides the rate it reports CPU per measurement, steadier on a shared
machine: the consumer's process, the write worker process (``--writer process``) and,
on PostgreSQL, the server backends of the benchmark's database (from ``/proc``). On
PostgreSQL give it an empty database each run (the devices are provisioned afresh).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as paho
import psutil
from sqlalchemy import text

from smartcity.gateways.iot import IotAgent
from smartcity.gateways.iot.mqtt import BrokerAddress, MqttConsumer
from smartcity.kernel.bus import open_bus
from smartcity.kernel.clock import RealClock
from smartcity.kernel.storage import Store, open_store

RESULTS = Path(__file__).resolve().parent / "results"
MEASURES_PER_MESSAGE = 5


class CountingLibrary:
    """Accepts upserts and counts them."""

    def __init__(self) -> None:
        self.entities = 0

    def upsert_entities(self, tenant: str, entities: Sequence[dict[str, Any]], mode: str) -> Any:
        self.entities += len(entities)
        return None


def payload_of(index: int) -> str:
    """The UltraLight message number ``index`` (five measures)."""
    value = index % 100
    return f"pm25|{value}|pm10|{value + 5}|no2|{value / 2}|o3|{value * 2}|t|{value / 4}"


def publish_raw(url: str, devices: Sequence[str], messages: int) -> None:
    """Send the same messages as :func:`publish` over a bare MQTT 3.1.1 socket (QoS 1).

    The devices of a city are not on the server; on this benchmark's one machine their
    publishing competes with the consumer for the CPU. paho spends ~100 µs of Python per
    publish; this writes pre-encoded PUBLISH packets in large writes and counts the
    broker's PUBACKs, so the figure measures the broker and the consumer rather than the
    simulated devices' client library. Packet ids stay below 65,536 messages in flight.
    """
    broker = BrokerAddress.from_url(url)
    connection = socket.create_connection((broker.host, broker.port))
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client_id = f"bench-{os.getpid()}".encode()
    variable = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(client_id).to_bytes(2, "big") + client_id
    connection.sendall(b"\x10" + _remaining_length(len(variable)) + variable)
    if _read_exactly(connection, 4)[3] != 0:
        raise RuntimeError("the broker refused the benchmark publisher")
    received_bytes = 0  # PUBACKs are four bytes each
    chunk: list[bytes] = []
    for index in range(messages):
        device = devices[index % len(devices)]
        topic = f"/bench/{device}/attrs".encode()
        body = (
            len(topic).to_bytes(2, "big")
            + topic
            + (index % 65535 + 1).to_bytes(2, "big")
            + payload_of(index).encode()
        )
        chunk.append(b"\x32" + _remaining_length(len(body)) + body)
        if len(chunk) == 500:
            connection.sendall(b"".join(chunk))
            chunk = []
            # Keep fewer than 65,535 packet ids in flight: read PUBACKs when far ahead.
            while index + 1 - received_bytes // 4 > 30_000:
                received_bytes += len(connection.recv(65536))
    connection.sendall(b"".join(chunk))
    while received_bytes // 4 < messages:
        received = connection.recv(65536)
        if not received:
            raise RuntimeError("the broker closed the benchmark publisher's connection")
        received_bytes += len(received)
    connection.sendall(b"\xe0\x00")  # DISCONNECT
    connection.close()


def _remaining_length(length: int) -> bytes:
    encoded = bytearray()
    while True:
        byte, length = length % 128, length // 128
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(encoded)


def _read_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        received = connection.recv(size - len(data))
        if not received:
            raise RuntimeError("the broker closed the connection")
        data += received
    return data


def children_cpu_seconds() -> dict[int, float]:
    """CPU seconds of each child process (the write worker, if any), by pid."""
    seconds = {}
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds[child.pid] = times.user + times.system
    return seconds


def database_cpu_seconds(store: Store) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving the benchmark's database, by pid.

    The cluster runs on this machine, so ``/proc/<pid>/stat`` of the backends named by
    ``pg_stat_activity`` gives the server's share of the work. Empty for SQLite.
    """
    if store.dialect != "postgresql":
        return {}
    with store.connect() as conn:
        query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [row[0] for row in conn.execute(query)]
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two samples (a process new in ``after`` counts whole)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


class Timeline:
    """Samples, every ``interval`` seconds, the CPU of each thread of this process and of
    the database's backends: where the wall time of a run goes (``--timeline``).

    Threads are named by :mod:`threading` (``MainThread`` reads MQTT and decodes, the
    writer's threads write); ``database`` is the sum over the PostgreSQL backends.
    """

    def __init__(self, store: Store, interval: float = 0.1) -> None:
        import threading

        self.store = store
        self.interval = interval
        self.rows: list[dict[str, float]] = []
        self.batches: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-timeline", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def watch(self, consumer: MqttConsumer) -> None:
        """Note when each of the consumer's batches is written, and its size."""
        writer = consumer._writer
        write = writer.write

        async def timed(batch: list[Any]) -> Any:
            began = time.perf_counter()
            outcome = await write(batch)
            ended = time.perf_counter()
            self.batches.append((began, ended, len(batch)))
            return outcome

        writer.write = timed  # type: ignore[method-assign]

    def stop(self) -> list[dict[str, Any]]:
        """Stop sampling; returns per interval the share of a core each thread used."""
        self._stop.set()
        self._thread.join()
        shares = []
        for before, after in zip(self.rows, self.rows[1:], strict=False):
            span = after["at"] - before["at"]
            row: dict[str, Any] = {"at": round(after["at"] - self.rows[0]["at"], 2)}
            for name, seconds in after.items():
                if name != "at":
                    row[name] = round((seconds - before.get(name, 0.0)) / span, 2)
            shares.append(row)
        return shares

    def _sample(self) -> None:
        import threading

        ticks = os.sysconf("SC_CLK_TCK")
        while not self._stop.is_set():
            row = {"at": time.perf_counter()}
            for thread in threading.enumerate():
                if thread.native_id is None or thread is self._thread:
                    continue
                try:
                    stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
                except OSError:
                    continue
                fields = stat.rsplit(")", 1)[1].split()
                name = thread.name.split("_", 1)[0]
                row[name] = row.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
            row["database"] = sum(database_cpu_seconds(self.store).values())
            self.rows.append(row)
            self._stop.wait(self.interval)


def publish(url: str, devices: Sequence[str], messages: int) -> None:
    """Send ``messages`` UltraLight messages round-robin over ``devices`` (QoS 1, paho)."""
    broker = BrokerAddress.from_url(url)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(broker.host, broker.port)
    client.loop_start()
    info = None
    for index in range(messages):
        device = devices[index % len(devices)]
        info = client.publish(f"/bench/{device}/attrs", payload_of(index), qos=1)
    if info is not None:
        info.wait_for_publish()
    client.loop_stop()
    client.disconnect()


PUBLISHERS = {"raw": publish_raw, "paho": publish}


async def run(
    url: str,
    library_kind: str,
    total_messages: int,
    publishers: int,
    database_url: str | None,
    publisher: str = "raw",
    writer_kind: str = "thread",
    collector: str = "served",
    timeline: bool = False,
    lanes: int | None = None,
) -> dict[str, Any]:
    """Measure one run; returns the figures."""
    store_url = database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    store = open_store(store_url)
    store.migrate(["smartcity.gateways.iot.tables"])
    library: Any = CountingLibrary()
    bus = open_bus("local")
    if library_kind == "real":
        from smartcity.kernel.context.library import ContextLibrary

        library = ContextLibrary(store, bus, RealClock())
    agent = IotAgent(store, library, RealClock())
    devices = [f"aq-{n:04d}" for n in range(1000)]
    agent.provision(
        "",
        [{"device_id": d, "apikey": "bench", "entity_type": "AirQualityObserved"} for d in devices],
    )
    writer: Any = None
    if library_kind == "real" and writer_kind == "process":
        from smartcity.gateways.iot.writer import ProcessWriter

        writer = ProcessWriter(store_url, bus)
        writer.wait_started()
    elif library_kind == "real":
        # As the server does (mqtt.writer_for): a thread writer with the backend's lanes.
        # Older code has no lanes (it then writes in its consumer's default thread).
        from smartcity.gateways.iot import writer as writers

        lanes_for = getattr(writers, "lanes_for", None)
        if lanes_for is not None:
            writer = writers.ThreadWriter(agent, lanes or lanes_for(store))  # type: ignore[call-arg,unused-ignore]
    # (No ``writer`` argument when there is none: the bench also runs the code before it.)
    options = {} if writer is None else {"writer": writer}
    consumer = MqttConsumer(agent, BrokerAddress.from_url(url), **options)
    await consumer.start()
    while not consumer.subscribed.is_set():
        await asyncio.sleep(0.01)
    if collector == "served":
        # The consumer runs in the served process, whose collector is tuned once it has
        # started (api/collector.py): its objects frozen, young collections less often.
        from smartcity.api.collector import tune_collector

        tune_collector()
    per_publisher = total_messages // publishers
    started = time.perf_counter()
    # CPU of this process (consumer, and library unless written in a worker process):
    # steadier than the rate on a shared machine.
    cpu_started = time.process_time()
    workers_started = children_cpu_seconds()
    database_started = database_cpu_seconds(store)
    sampler = Timeline(store) if timeline else None
    if sampler is not None:
        sampler.start()
        sampler.watch(consumer)
    processes = [
        multiprocessing.Process(
            target=PUBLISHERS[publisher], args=(url, devices[n::publishers], per_publisher)
        )
        for n in range(publishers)
    ]
    for process in processes:
        process.start()
    expected = per_publisher * publishers * MEASURES_PER_MESSAGE
    while consumer.counts.measurements < expected:
        await asyncio.sleep(0.005)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    # Only the children there before the publishers started: the write worker.
    workers = {pid: cpu for pid, cpu in children_cpu_seconds().items() if pid in workers_started}
    worker_seconds = cpu_spent(workers_started, workers)
    database_seconds = cpu_spent(database_started, database_cpu_seconds(store))
    shares = sampler.stop() if sampler is not None else None
    written = (
        [
            {"from": round(a - started, 3), "to": round(b - started, 3), "updates": n}
            for a, b, n in sampler.batches
        ]
        if sampler is not None
        else None
    )
    for process in processes:
        process.join()
    await consumer.stop()
    dialect = store.dialect
    store.close()
    return {
        "when": datetime.now(UTC).isoformat(),
        "library": library_kind,
        "publisher": publisher,
        "writer": writer_kind if library_kind == "real" else None,
        "lanes": getattr(consumer._writer, "lanes", 1) if library_kind == "real" else None,
        "collector": collector,
        "database": dialect,
        "messages": per_publisher * publishers,
        "measurements": expected,
        "batches": consumer.counts.batches,
        "seconds": round(seconds, 3),
        "measurements_per_second": round(expected / seconds),
        "consumer_cpu_us_per_measurement": round(cpu_seconds / expected * 1e6, 1),
        # The write worker process (``--writer process``), and the PostgreSQL backends.
        "worker_cpu_us_per_measurement": round(worker_seconds / expected * 1e6, 1),
        "database_cpu_us_per_measurement": round(database_seconds / expected * 1e6, 1),
        "total_cpu_us_per_measurement": round(
            (cpu_seconds + worker_seconds + database_seconds) / expected * 1e6, 1
        ),
        **({"timeline": shares, "written": written} if shares is not None else {}),
    }


def compare_lanes(
    database_url: str | None, lanes: Sequence[int], rounds: int, per_device: int = 8
) -> dict[str, Any]:
    """The thread writer alone, no broker: the same batches written with each lane count
    in turn (alternating, same minutes), after a first batch that creates the attributes.

    Per lane count: measurements per second of each write, and the median; client and
    database CPU µs per measurement. The difference is the lanes' overlap of one lane's
    database time with another's Python.
    """
    from smartcity.gateways.iot.writer import ThreadWriter
    from smartcity.kernel.context.library import ContextLibrary

    store = open_store(database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
    store.migrate(["smartcity.gateways.iot.tables"])
    agent = IotAgent(store, ContextLibrary(store, open_bus("local"), RealClock()), RealClock())
    devices = [f"aq-{n:04d}" for n in range(1000)]
    agent.provision(
        "",
        [{"device_id": d, "apikey": "bench", "entity_type": "AirQualityObserved"} for d in devices],
    )
    from smartcity.api.collector import tune_collector

    tune_collector()
    writers = {count: ThreadWriter(agent, count) for count in lanes}
    messages = iter(range(10**9))

    def batch() -> list[Any]:
        return [
            update
            for _ in range(per_device)
            for device in devices
            for update in agent.ultralight_updates("bench", device, payload_of(next(messages)))
        ]

    asyncio.run(writers[lanes[0]].write(batch()))
    runs: dict[int, list[dict[str, float]]] = {count: [] for count in lanes}
    for round_ in range(rounds):
        for count in lanes if round_ % 2 == 0 else list(reversed(lanes)):
            updates = batch()
            measurements = sum(update.measurements for update in updates)
            wall, cpu, database = (
                time.perf_counter(),
                time.process_time(),
                database_cpu_seconds(store),
            )
            asyncio.run(writers[count].write(updates))
            wall = time.perf_counter() - wall
            cpu = time.process_time() - cpu
            database_s = cpu_spent(database, database_cpu_seconds(store))
            runs[count].append(
                {
                    "measurements_per_second": round(measurements / wall),
                    "client_cpu_us_per_measurement": round(cpu / measurements * 1e6, 1),
                    "database_cpu_us_per_measurement": round(database_s / measurements * 1e6, 1),
                }
            )
    for writer in writers.values():
        writer.close()
    dialect = store.dialect
    store.close()
    return {
        "when": datetime.now(UTC).isoformat(),
        "database": dialect,
        "load_average": os.getloadavg()[0],
        **{
            f"lanes_{count}": {
                "median_measurements_per_second": sorted(
                    run["measurements_per_second"] for run in results
                )[len(results) // 2],
                "runs": results,
            }
            for count, results in runs.items()
        },
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
    parser.add_argument(
        "--writer", choices=["process", "thread"], default="thread", help="library writes in"
    )
    parser.add_argument(
        "--publisher", choices=sorted(PUBLISHERS), default="raw", help="device client"
    )
    parser.add_argument("--database-url", default=None, help="an empty database (default SQLite)")
    parser.add_argument(
        "--collector",
        choices=["served", "default"],
        default="served",
        help="tune the garbage collector as the served process does, or leave it",
    )
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="sample each thread's and the database's CPU every 0.1 s (a core's share)",
    )
    parser.add_argument(
        "--entities-per-write",
        type=int,
        default=None,
        help="entities per library call (default: the agent's ENTITIES_PER_WRITE)",
    )
    parser.add_argument(
        "--lanes", type=int, default=None, help="thread writer's lanes (default: the backend's)"
    )
    parser.add_argument(
        "--compare-lanes",
        default=None,
        help="e.g. 1,2: write batches with each lane count in turn, no broker (see compare_lanes)",
    )
    parser.add_argument("--rounds", type=int, default=6, help="rounds of --compare-lanes")
    options = parser.parse_args()
    if options.compare_lanes:
        counts = [int(count) for count in options.compare_lanes.split(",")]
        compared = compare_lanes(options.database_url, counts, options.rounds)
        print(orjson.dumps(compared, option=orjson.OPT_INDENT_2).decode())
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "mqtt_lanes.json").write_bytes(
            orjson.dumps(compared, option=orjson.OPT_INDENT_2)
        )
        return
    if options.entities_per_write is not None:
        from smartcity.gateways.iot import agent as agent_module

        agent_module.ENTITIES_PER_WRITE = options.entities_per_write
    figures = asyncio.run(
        run(
            options.url,
            options.library,
            options.messages,
            options.publishers,
            options.database_url,
            options.publisher,
            options.writer,
            options.collector,
            options.timeline,
            options.lanes,
        )
    )
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if options.publisher == "raw" else f"_{options.publisher}"
    target = RESULTS / f"mqtt_ingestion_{options.library}{suffix}.json"
    target.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
