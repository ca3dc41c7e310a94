"""Live sensors of the demo city, streamed through the IoT agent's ingestion path.

``run_sensors(platform, rate_per_s=..., duration_s=..., seed=...)`` plans the fleet
(``sensor_fleet.py``), provisions it, publishes the parking sites, then sends readings
round-robin over the sensors at the given rate, either

- in process: the same :class:`~smartcity.gateways.iot.IotAgent` calls the HTTP route
  makes, batched per tick (the default; needs no server), or
- over HTTP to a running server (``base_url="http://127.0.0.1:8000"``): provisioning at
  ``POST /iot/devices`` and one ``POST /iot/json`` per reading, like real devices.

Readings are deterministic for a seed and a clock; only their pacing follows wall time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx2

from smartcity.gateways.iot import IotAgent
from smartcity.gateways.iot.measures import TIME_INSTANT, instant_text
from smartcity.kernel.clock import Clock
from smartcity.kernel.context.errors import AlreadyExists
from smartcity.kernel.errors import DomainError
from smartcity.kernel.platform import Platform
from smartcity.sim.progress import Progress, SilentProgress
from smartcity.sim.sensor_fleet import (
    API_KEY,
    Fleet,
    FleetSize,
    Sensor,
    parking_site_entity,
    plan_fleet,
    reading,
)

CITY_TIME = ZoneInfo("Asia/Shanghai")
# Readings are sent in ticks of this many seconds, so pacing costs few sleeps.
TICK_SECONDS = 0.1
HTTP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class SensorRunSummary:
    """What a run sent."""

    devices: int
    messages: int
    measurements: int
    seconds: float


class Transport(Protocol):
    """How provisioning and readings reach the IoT agent."""

    def provision(self, tenant: str, fleet: Fleet) -> None:
        """Register every device (those already registered are kept) and the parking sites."""
        ...

    def send(self, readings: Sequence[tuple[Sensor, dict[str, Any]]]) -> int:
        """Deliver readings; returns how many measurements were accepted."""
        ...


class InProcessTransport:
    """Calls the IoT agent directly (what the ingestion routes call)."""

    def __init__(self, agent: IotAgent, api_key: str = API_KEY) -> None:
        self.agent = agent
        self.api_key = api_key

    def provision(self, tenant: str, fleet: Fleet) -> None:
        """Register devices one by one, keeping those already there."""
        for sensor in fleet.sensors:
            try:
                self.agent.provision(tenant, [sensor.document(self.api_key)])
            except AlreadyExists:
                continue
        sites = [parking_site_entity(site) for site in fleet.parking_sites]
        if sites:
            self.agent.library.upsert_entities(tenant, sites, mode="update")

    def send(self, readings: Sequence[tuple[Sensor, dict[str, Any]]]) -> int:
        """One write for the whole tick."""
        updates = [
            update
            for sensor, measures in readings
            for update in self.agent.measure_updates(self.api_key, sensor.device_id, measures)
        ]
        return self.agent.write(updates)


class HttpTransport:
    """Talks to a running server like devices and operators would."""

    def __init__(
        self, base_url: str, api_key: str = API_KEY, client: httpx2.Client | None = None
    ) -> None:
        self.client = client or httpx2.Client(base_url=base_url, timeout=HTTP_TIMEOUT_SECONDS)
        self.api_key = api_key

    def provision(self, tenant: str, fleet: Fleet) -> None:
        """``POST /iot/devices`` per device (409: already there) and an NGSI-LD upsert."""
        headers = {"NGSILD-Tenant": tenant} if tenant else {}
        for sensor in fleet.sensors:
            answer = self.client.post(
                "/iot/devices", json=sensor.document(self.api_key), headers=headers
            )
            if answer.status_code not in (201, 409):
                answer.raise_for_status()
        sites = [parking_site_entity(site) for site in fleet.parking_sites]
        if sites:
            self.client.post(
                "/ngsi-ld/v1/entityOperations/upsert",
                params={"options": "update"},
                json=sites,
                headers=headers,
            ).raise_for_status()

    def send(self, readings: Sequence[tuple[Sensor, dict[str, Any]]]) -> int:
        """One ``POST /iot/json`` per reading."""
        accepted = 0
        for sensor, measures in readings:
            answer = self.client.post(
                "/iot/json", params={"k": self.api_key, "i": sensor.device_id}, json=measures
            )
            answer.raise_for_status()
            accepted += int(answer.json()["measures"])
        return accepted

    def close(self) -> None:
        """Release the connection pool."""
        self.client.close()


def run_sensors(
    platform: Platform,
    *,
    rate_per_s: float,
    duration_s: float,
    seed: int,
    progress: Progress | None = None,
    base_url: str | None = None,
    tenant: str = "",
    size: FleetSize | None = None,
) -> SensorRunSummary:
    """Provision the demo city's sensors and stream ``rate_per_s`` readings for ``duration_s``.

    In process by default; over HTTP to ``base_url`` when given. Readings carry the
    platform clock's time as ``TimeInstant``.
    """
    if rate_per_s <= 0 or duration_s <= 0:
        raise DomainError("rate_per_s and duration_s must be positive")
    fleet = plan_fleet(platform.store, seed=seed, size=size)
    if not fleet.sensors:
        raise DomainError("the city has no unit grids to place sensors in; seed it first")
    transport: Transport
    if base_url:
        transport = HttpTransport(base_url)
    else:
        agent = IotAgent.for_platform(platform)
        transport = InProcessTransport(agent)
    try:
        transport.provision(tenant, fleet)
        return stream_readings(
            transport, fleet, platform.clock, rate_per_s, duration_s, seed, progress
        )
    finally:
        if isinstance(transport, HttpTransport):
            transport.close()


def stream_readings(
    transport: Transport,
    fleet: Fleet,
    clock: Clock,
    rate_per_s: float,
    duration_s: float,
    seed: int,
    progress: Progress | None = None,
) -> SensorRunSummary:
    """Send ``rate_per_s × duration_s`` readings round-robin over the fleet, paced in ticks."""
    rng = random.Random(seed)
    total = max(1, round(rate_per_s * duration_s))
    per_tick = max(1, round(rate_per_s * TICK_SECONDS))
    sensors = fleet.sensors
    started = time.monotonic()
    sent = measurements = 0
    with (progress or SilentProgress()).step(
        "streaming sensor readings 传感器数据", total
    ) as advance:
        while sent < total:
            now = clock.now()
            local = now.astimezone(CITY_TIME)
            batch = []
            for offset in range(min(per_tick, total - sent)):
                sensor = sensors[(sent + offset) % len(sensors)]
                measures = reading(sensor, rng, local)
                measures[TIME_INSTANT] = instant_text(now)
                batch.append((sensor, measures))
            measurements += transport.send(batch)
            sent += len(batch)
            advance(len(batch))
            ahead = started + sent / rate_per_s - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    return SensorRunSummary(
        devices=len(sensors),
        messages=sent,
        measurements=measurements,
        seconds=round(time.monotonic() - started, 3),
    )
