"""MQTT ingestion: a consumer of ``/<apikey>/<device_id>/attrs`` on a broker.

``SMARTCITY_MQTT_URL`` (``mqtt://host:1883``, ``mqtts://user:pass@host:8883``) turns it
on; unset, the platform ingests over HTTP only. Payloads on ``.../attrs`` are a JSON
object of measures or UltraLight 2.0 text; on ``.../attrs/<object_id>`` the payload is
that one measure's value.

Each message is decoded, mapped and validated as it arrives (``mqtt_wire`` cuts the
broker's stream into messages, many per read), then batched: up to ``batch_size`` messages or
``batch_seconds`` after the first, whichever comes first, become one round of
``upsert_entities`` calls made in writer threads (two lanes split by entity on
PostgreSQL, see writer.py) while the event loop keeps reading.
One bad message is logged and dropped; it never costs the others in its batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from sqlalchemy.engine import make_url

from smartcity.gateways.iot.agent import IotAgent, Update
from smartcity.gateways.iot.measures import typed_text
from smartcity.gateways.iot.mqtt_wire import MqttSubscriber, MqttWireError
from smartcity.gateways.iot.writer import BatchWriter, ProcessWriter, ThreadWriter, lanes_for
from smartcity.kernel.context.errors import BadRequestData
from smartcity.kernel.errors import ConfigurationError, DomainError
from smartcity.kernel.platform import Platform

log = logging.getLogger(__name__)

TOPICS = ("/+/+/attrs", "/+/+/attrs/+")
# A shared subscription: with several server workers, the broker hands each message to
# one of them instead of all (MQTT 5 ``$share``, also honoured by Mosquitto for 3.1.1).
SHARE_GROUP = "smartcity-iot"
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)
# The consumer subscribes at QoS 0, so the broker sends no PUBACK round per message to it.
# Devices still publish at QoS 1 and are acknowledged by the broker. The consumer's session
# is clean (not persistent), so messages in flight to it at a disconnect are lost at either
# QoS; QoS 1 on this leg would cost a packet per message and buy nothing.
SUBSCRIBE_QOS = 0


@dataclass(frozen=True)
class BrokerAddress:
    """Where the broker listens, parsed from an ``mqtt://`` or ``mqtts://`` URL."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def from_url(cls, url: str) -> BrokerAddress:
        """Parse a broker URL; :class:`ConfigurationError` names what is wrong."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
            raise ConfigurationError(f"MQTT URL {url!r} must look like mqtt://host:1883")
        tls = parts.scheme in ("mqtts", "ssl")
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise ConfigurationError(f"MQTT URL {url!r} has a bad port") from None
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


@dataclass
class ConsumerCounts:
    """What the consumer has done so far."""

    messages: int = 0
    measurements: int = 0
    rejected: int = 0
    batches: int = 0


@dataclass
class MqttConsumer:
    """Subscribes to the device topics and writes their measures in batches."""

    agent: IotAgent
    broker: BrokerAddress
    batch_size: int = 2000
    batch_seconds: float = 0.05
    # Where batches are written; None: one thread of this process (see writer.py;
    # the server's is chosen by writer_for).
    writer: BatchWriter | None = None
    counts: ConsumerCounts = field(default_factory=ConsumerCounts)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    _pending: list[Update] = field(default_factory=list)
    _first: asyncio.Event = field(default_factory=asyncio.Event)
    _full: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _writer: BatchWriter = field(init=False)

    def __post_init__(self) -> None:
        self._writer = self.writer or ThreadWriter(self.agent)

    async def start(self) -> None:
        """Start reading and writing in background tasks."""
        self._tasks = [
            asyncio.create_task(self._read(), name="mqtt-read"),
            asyncio.create_task(self._flush_loop(), name="mqtt-flush"),
        ]

    async def stop(self) -> None:
        """Stop reading, then write what is still pending."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._flush()
        self._writer.close()

    def accept(self, topic: str, payload: bytes) -> None:
        """Turn one message into pending updates (a bad one is counted and logged)."""
        self.counts.messages += 1
        try:
            updates = self._updates(topic, payload)
        except DomainError as error:
            self.counts.rejected += 1
            log.warning("MQTT message on %s refused: %s", topic, error.reason)
            return
        self._pending.extend(updates)
        self._first.set()
        if len(self._pending) >= self.batch_size:
            self._full.set()

    def _updates(self, topic: str, payload: bytes) -> list[Update]:
        levels = topic.split("/")
        if len(levels) not in (4, 5) or levels[0] or levels[3] != "attrs":
            raise _refused(f"topic {topic!r} is not /<apikey>/<device_id>/attrs[/<object_id>]")
        api_key, device_id = levels[1], levels[2]
        if len(levels) == 5:
            return self.agent.measure_updates(api_key, device_id, {levels[4]: _value(payload)})
        if payload.lstrip()[:1] == b"{":
            return self.agent.json_updates(api_key, device_id, payload)
        return self.agent.ultralight_updates(api_key, device_id, _text(payload))

    async def _read(self) -> None:
        attempt = 0
        while True:
            subscriber = None
            try:
                subscriber = await MqttSubscriber.open(
                    self.accept,
                    self.broker.host,
                    self.broker.port,
                    username=self.broker.username,
                    password=self.broker.password,
                    tls=ssl.create_default_context() if self.broker.tls else None,
                )
                shared = [f"$share/{SHARE_GROUP}/{topic}" for topic in TOPICS]
                await subscriber.subscribe(shared, qos=SUBSCRIBE_QOS)
                self.subscribed.set()
                attempt = 0
                # Messages go to accept() as they arrive; this ends when the connection does.
                await subscriber.closed()
            except MqttWireError as error:
                self.subscribed.clear()
                delay = RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)]
                attempt += 1
                log.warning(
                    "MQTT broker %s: %s; retrying in %.1f s", self.broker.host, error, delay
                )
                await asyncio.sleep(delay)
            finally:
                if subscriber is not None:
                    subscriber.close()

    async def _flush_loop(self) -> None:
        while True:
            await self._first.wait()
            # asyncio.timeout, not wait_for, which on Python 3.11 can swallow a
            # cancellation arriving together with the wake-up (the loop would then outlive
            # its stop).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.batch_seconds):
                    await self._full.wait()
            await self._flush()

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        self._first.clear()
        self._full.clear()
        if batch:
            self.counts.batches += 1
            try:
                outcome = await self._writer.write(batch)
            except Exception:
                # The writer itself failed (not one update): the batch is lost, reading goes on.
                self.counts.rejected += len(batch)
                log.exception("MQTT batch of %d updates could not be written", len(batch))
                return
            self.counts.measurements += outcome.measurements
            self.counts.rejected += outcome.rejected


def _refused(reason: str) -> DomainError:
    return BadRequestData(reason)


def _text(payload: bytes) -> str:
    try:
        return payload.decode()
    except UnicodeDecodeError:
        raise _refused("the payload is not UTF-8 text") from None


def _value(payload: bytes) -> Any:
    """A single measure's value: JSON if it parses, else typed UltraLight text."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return typed_text(_text(payload))


def mqtt_url() -> str | None:
    """The broker URL from ``SMARTCITY_MQTT_URL`` (None: MQTT ingestion is off)."""
    return os.environ.get("SMARTCITY_MQTT_URL") or None


def mqtt_writer() -> str:
    """``SMARTCITY_MQTT_WRITER``: ``thread`` (default) or ``process`` (see writer.py).

    A thread by default: the worker process costs more CPU in all (batches and events
    cross between processes), so it only wins with a core to spare. Measured under load
    (docs/performance.md) it wrote 1.4-1.6x the thread's rate in two runs of five and
    0.6-0.94x in the other three.
    """
    kind = os.environ.get("SMARTCITY_MQTT_WRITER") or "thread"
    if kind not in ("process", "thread"):
        raise ConfigurationError(f"SMARTCITY_MQTT_WRITER must be process or thread, not {kind!r}")
    return kind


def writer_for(platform: Platform, agent: IotAgent) -> BatchWriter:
    """A worker process over the platform's database if asked and it can open it; else a thread.

    The worker opens the database by the configured URL, so it is used only when the
    platform's store is that database and it is not a private in-memory SQLite one. The
    thread writes through the platform's store (the library plans batch statements for
    their arrays on any connection: ``storage.driver.plan_each_run``).
    """
    url = platform.settings.resolved_database_url
    parsed = make_url(url)
    private = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
    shared = platform.store.url == parsed.render_as_string(hide_password=True) and not private
    own = shared and agent.library is platform.context
    if mqtt_writer() == "process" and own:
        return ProcessWriter(url, platform.bus)
    return ThreadWriter(agent, lanes_for(platform.store))


async def start_mqtt(platform: Platform, agent: IotAgent | None = None) -> MqttConsumer | None:
    """Start consuming device messages if ``SMARTCITY_MQTT_URL`` is set; else None."""
    url = mqtt_url()
    if url is None:
        return None
    agent = agent or IotAgent.for_platform(platform)
    consumer = MqttConsumer(agent, BrokerAddress.from_url(url), writer=writer_for(platform, agent))
    await consumer.start()
    log.info("MQTT ingestion from %s:%d", consumer.broker.host, consumer.broker.port)
    return consumer


async def stop_mqtt(consumer: MqttConsumer | None) -> None:
    """Stop a consumer :func:`start_mqtt` started (None is fine)."""
    if consumer is not None:
        await consumer.stop()
