"""The demo city's sensors, provisioned and streamed through the IoT agent."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import smartcity.gateways.iot.tables  # noqa: F401  (the registry table joins the metadata)
from smartcity.api import create_app
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.context.tables import context_entity, context_instance, context_series
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store
from smartcity.sim.city import seed_city
from smartcity.sim.profiles import TINY
from smartcity.sim.progress import SilentProgress
from smartcity.sim.sensor_fleet import FleetSize, Sensor, plan_fleet
from smartcity.sim.sensors import HttpTransport, run_sensors, stream_readings

DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
SMALL = FleetSize(
    air_stations_per_district=1,
    traffic_counters=4,
    parking_sites=2,
    spots_per_site=3,
    water_meters=2,
    electricity_meters=2,
)
TYPES = {
    "AirQualityObserved": 11,
    "TrafficFlowObserved": 4,
    "ParkingSpot": 6,
    "OffStreetParking": 2,
    "WaterConsumptionObserved": 2,
    "SmartMeteringObservation": 2,
}


@pytest.fixture
def platform(store: Store, clock: FixedClock, tmp_path: Path) -> Platform:
    seed_city(store, profile=TINY, seed=7, progress=SilentProgress(), clock=clock)
    return Platform.open(Settings(data_dir=tmp_path), store=store, clock=clock, migrate=False)


# Seeding also publishes the city's places; the sensors are everything else.
PLACE_TYPES = {"AdministrativeArea", "Organization"}


def _entity_types(store: Store) -> dict[str, int]:
    """Entities per type, of the sensors' types only."""
    with store.connect() as conn:
        rows = conn.execute(
            select(context_entity.c.type, func.count()).group_by(context_entity.c.type)
        ).all()
    counts = {type_[len(DEFAULT) :]: count for type_, count in rows}
    return {name: count for name, count in counts.items() if name not in PLACE_TYPES}


def test_sensors_stream_smart_data_model_entities_in_process(platform: Platform) -> None:
    summary = run_sensors(platform, rate_per_s=2000, duration_s=0.1, seed=3, size=SMALL)

    assert summary.devices == 25 and summary.messages == 200
    assert _entity_types(platform.store) == TYPES
    with platform.store.connect() as conn:
        readings = conn.execute(
            select(func.count())
            .select_from(context_instance)
            .join(context_series, context_series.c.id == context_instance.c.series_id)
            .where(context_series.c.name == DEFAULT + "pm25")
        ).scalar_one()
    assert readings == 8 * 11  # 200 readings round-robin over 25 sensors: 8 rounds
    station = platform.context.retrieve_entity("", "urn:ngsi-ld:AirQualityObserved:aq-00000")
    assert station[DEFAULT + "pm25"][0]["unitCode"] == "GQ"
    assert station[DEFAULT + "pm25"][0]["observedAt"].startswith("2026-11-21T09:00:00")
    district = station[DEFAULT + "refDistrict"][0]["object"]
    grid = station[DEFAULT + "refGrid"][0]["object"]
    assert grid.startswith(district)
    spot = platform.context.retrieve_entity("", "urn:ngsi-ld:ParkingSpot:ps-P000-000")
    assert spot["https://uri.etsi.org/ngsi-ld/status"][0]["value"] in ("free", "occupied")
    assert spot[DEFAULT + "refParkingSite"][0]["object"] == "urn:ngsi-ld:OffStreetParking:P000"


class Recorder:
    def __init__(self) -> None:
        self.readings: list[tuple[str, dict[str, Any]]] = []

    def provision(self, tenant: str, fleet: Any) -> None:
        pass

    def send(self, readings: Any) -> int:
        self.readings.extend((sensor.device_id, dict(m)) for sensor, m in readings)
        return sum(len(m) - 1 for _, m in readings)


def test_the_same_seed_gives_the_same_fleet_and_readings(
    platform: Platform, clock: FixedClock
) -> None:
    def run(seed: int) -> tuple[list[Sensor], list[tuple[str, dict[str, Any]]]]:
        fleet = plan_fleet(platform.store, seed=seed, size=SMALL)
        recorder = Recorder()
        stream_readings(recorder, fleet, clock, 5000, 0.02, seed)
        return list(fleet.sensors), recorder.readings

    first, again, other = run(3), run(3), run(4)
    assert [(s.device_id, s.longitude, s.latitude) for s in first[0]] == [
        (s.device_id, s.longitude, s.latitude) for s in again[0]
    ]
    assert first[1] == again[1]
    assert first[1] != other[1]
    meters = [m["v"] for device, m in first[1] if device == "wm-00000"]
    assert meters == sorted(meters)  # a meter's total only grows


def test_sensors_stream_over_http_like_devices(platform: Platform, clock: FixedClock) -> None:
    application = create_app(platform)  # the IoT router is mounted already
    clock.advance(timedelta(hours=1))
    with TestClient(application) as client:
        transport = HttpTransport("http://testserver", client=client)
        fleet = plan_fleet(platform.store, seed=3, size=SMALL)
        transport.provision("", fleet)
        transport.provision("", fleet)  # provisioning again keeps what is there
        summary = stream_readings(transport, fleet, clock, 5000, 0.01, seed=3)

    assert summary.messages == 50
    assert _entity_types(platform.store) == TYPES
    counter = platform.context.retrieve_entity("", fleet.sensors[11].entity_id)
    assert counter[DEFAULT + "averageVehicleSpeed"][0]["unitCode"] == "KMH"
    assert counter[DEFAULT + "intensity"][0]["observedAt"].startswith("2026-11-21T10:00:00")
