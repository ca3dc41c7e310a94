"""The demo city's sensors: where they stand, how they are provisioned, what they read.

Types and attribute names are FIWARE Smart Data Models: ``AirQualityObserved``,
``TrafficFlowObserved``, ``ParkingSpot`` (in ``OffStreetParking`` sites),
``WaterConsumptionObserved`` and ``SmartMeteringObservation`` (electricity). Every
device entity has a location and ``refDistrict``/``refGrid`` relationships to the
``AdministrativeArea`` entities ``sim/places.py`` publishes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from smartcity.gateways.iot.vocabulary import expand_name
from smartcity.kernel.geo.index import GridIndex
from smartcity.kernel.geo.queries import load_areas
from smartcity.kernel.geo.tables import geo_road_edge
from smartcity.kernel.storage import Store
from smartcity.sim.places import area_entity_id

API_KEY = "demo-city-sensors"


@dataclass(frozen=True)
class Measure:
    """One measure a kind of sensor sends: its object id, attribute name and unit."""

    object_id: str
    name: str
    unit_code: str | None = None


@dataclass(frozen=True)
class SensorKind:
    """A kind of sensor: its Smart Data Models type and the measures it sends."""

    entity_type: str
    prefix: str
    measures: tuple[Measure, ...]


AIR_QUALITY = SensorKind(
    "AirQualityObserved",
    "aq",
    (
        Measure("pm25", "pm25", "GQ"),  # GQ: microgram per cubic metre
        Measure("pm10", "pm10", "GQ"),
        Measure("no2", "no2", "GQ"),
        Measure("o3", "o3", "GQ"),
        Measure("t", "temperature", "CEL"),
        Measure("h", "relativeHumidity", "C62"),  # a fraction, 0..1, as the model says
    ),
)
TRAFFIC_FLOW = SensorKind(
    "TrafficFlowObserved",
    "tf",
    (
        Measure("i", "intensity", "E50"),  # vehicles counted in the period
        Measure("s", "averageVehicleSpeed", "KMH"),
        Measure("o", "occupancy", "C62"),
    ),
)
PARKING_SPOT = SensorKind("ParkingSpot", "ps", (Measure("st", "status"),))
WATER_METER = SensorKind(
    "WaterConsumptionObserved", "wm", (Measure("v", "waterConsumption", "MTQ"),)
)
ELECTRICITY_METER = SensorKind(
    "SmartMeteringObservation", "em", (Measure("e", "totalActiveEnergyImport", "KWH"),)
)
KINDS = (AIR_QUALITY, TRAFFIC_FLOW, PARKING_SPOT, WATER_METER, ELECTRICITY_METER)


@dataclass(frozen=True)
class FleetSize:
    """How many sensors of each kind (parking: sites × spots per site)."""

    air_stations_per_district: int = 2
    traffic_counters: int = 40
    parking_sites: int = 8
    spots_per_site: int = 12
    water_meters: int = 40
    electricity_meters: int = 40


@dataclass
class Sensor:
    """One planned sensor and the state its readings evolve from."""

    device_id: str
    kind: SensorKind
    longitude: float
    latitude: float
    grid_code: str
    static: tuple[dict[str, Any], ...] = ()
    state: dict[str, float] = field(default_factory=dict)

    @property
    def entity_id(self) -> str:
        """The id of the sensor's entity."""
        return f"urn:ngsi-ld:{self.kind.entity_type}:{self.device_id}"

    def document(self, api_key: str = API_KEY) -> dict[str, Any]:
        """The provisioning document of the device (``/iot/devices``)."""
        statics = [
            {
                "name": "location",
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [self.longitude, self.latitude]},
            },
            _relationship("refDistrict", area_entity_id(self.grid_code[:6])),
            _relationship("refGrid", area_entity_id(self.grid_code)),
            *self.static,
        ]
        return {
            "device_id": self.device_id,
            "apikey": api_key,
            "entity_name": self.entity_id,
            "entity_type": self.kind.entity_type,
            "timezone": "Asia/Shanghai",
            "attributes": [
                {
                    "object_id": m.object_id,
                    "name": m.name,
                    "type": "Property",
                    **({"unitCode": m.unit_code} if m.unit_code else {}),
                }
                for m in self.kind.measures
            ],
            "static_attributes": statics,
        }


@dataclass(frozen=True)
class ParkingSite:
    """An off-street car park whose spots carry sensors."""

    site_id: str
    name: str
    longitude: float
    latitude: float
    grid_code: str
    spots: int

    @property
    def entity_id(self) -> str:
        """The id of the site's entity."""
        return f"urn:ngsi-ld:OffStreetParking:{self.site_id}"


@dataclass(frozen=True)
class Fleet:
    """Every planned sensor and parking site."""

    sensors: tuple[Sensor, ...]
    parking_sites: tuple[ParkingSite, ...]


def plan_fleet(store: Store, *, seed: int, size: FleetSize | None = None) -> Fleet:
    """Place sensors in the seeded city, the same way for the same seed.

    Air stations stand at grid centroids in every district, traffic counters at the
    middle of road segments, parking sites and meters at grid centroids.
    """
    size = size or FleetSize()
    rng = random.Random(seed)
    grids = load_areas(store, "grid")
    grids_by_district: dict[str, list[Any]] = {}
    for grid in grids:
        grids_by_district.setdefault(grid.code[:6], []).append(grid)
    sensors: list[Sensor] = []
    for district in sorted(grids_by_district):
        choices = grids_by_district[district]
        for grid in rng.sample(choices, min(size.air_stations_per_district, len(choices))):
            sensors.append(_at_grid(f"aq-{len(sensors):05d}", AIR_QUALITY, grid))
    sensors.extend(_traffic_counters(store, rng, size.traffic_counters))
    sites = []
    for number in range(size.parking_sites):
        grid = rng.choice(grids)
        site = ParkingSite(
            f"P{number:03d}",
            f"{grid.name}停车场",
            grid.centroid_lon,
            grid.centroid_lat,
            grid.code,
            size.spots_per_site,
        )
        sites.append(site)
        for spot in range(size.spots_per_site):
            sensor = _at_grid(f"ps-{site.site_id}-{spot:03d}", PARKING_SPOT, grid)
            sensor.longitude += (spot % 6) * 0.00005
            sensor.latitude += (spot // 6) * 0.00005
            sensor.static = (_relationship("refParkingSite", site.entity_id),)
            sensors.append(sensor)
    for kind, count in (
        (WATER_METER, size.water_meters),
        (ELECTRICITY_METER, size.electricity_meters),
    ):
        for number in range(count):
            sensors.append(_at_grid(f"{kind.prefix}-{number:05d}", kind, rng.choice(grids)))
    return Fleet(tuple(sensors), tuple(sites))


def parking_site_entity(site: ParkingSite) -> dict[str, Any]:
    """The expanded ``OffStreetParking`` entity of a site."""
    point = {"type": "Point", "coordinates": [site.longitude, site.latitude]}
    return {
        "id": site.entity_id,
        "type": [expand_name("OffStreetParking")],
        expand_name("name"): [{"type": "Property", "value": site.name}],
        expand_name("totalSpotNumber"): [{"type": "Property", "value": site.spots}],
        expand_name("category"): [{"type": "Property", "value": ["offStreet"]}],
        expand_name("location"): [{"type": "GeoProperty", "value": point}],
        expand_name("refDistrict"): [
            {"type": "Relationship", "object": area_entity_id(site.grid_code[:6])}
        ],
        expand_name("refGrid"): [
            {"type": "Relationship", "object": area_entity_id(site.grid_code)}
        ],
    }


def reading(sensor: Sensor, rng: random.Random, at: datetime) -> dict[str, Any]:
    """The sensor's next measures (object id → value), plausible for the hour of day."""
    hour = at.hour + at.minute / 60
    # Traffic and pollution peak in the rush hours; temperature mid-afternoon.
    rush = math.exp(-(((hour - 8.5) / 1.5) ** 2)) + math.exp(-(((hour - 18) / 1.8) ** 2))
    warmth = math.cos((hour - 15) / 24 * 2 * math.pi)
    kind = sensor.kind
    if kind is AIR_QUALITY:
        pm25 = max(1.0, 25 + 30 * rush + rng.gauss(0, 5))
        return {
            "pm25": round(pm25, 1),
            "pm10": round(pm25 * 1.6 + rng.gauss(0, 4), 1),
            "no2": round(max(1.0, 20 + 35 * rush + rng.gauss(0, 4)), 1),
            "o3": round(max(1.0, 60 + 40 * warmth + rng.gauss(0, 6)), 1),
            "t": round(22 + 5 * warmth + rng.gauss(0, 0.5), 1),
            "h": round(min(1.0, max(0.1, 0.7 - 0.15 * warmth + rng.gauss(0, 0.03))), 2),
        }
    if kind is TRAFFIC_FLOW:
        intensity = max(0, round(40 + 220 * rush + rng.gauss(0, 15)))
        occupancy = min(0.98, intensity / 400 + abs(rng.gauss(0, 0.02)))
        speed = max(5.0, 60 * (1 - occupancy) + rng.gauss(0, 3))
        return {"i": intensity, "s": round(speed, 1), "o": round(occupancy, 3)}
    if kind is PARKING_SPOT:
        occupied = sensor.state.get("occupied", float(rng.random() < 0.5))
        if rng.random() < 0.2:
            occupied = 1.0 - occupied
        sensor.state["occupied"] = occupied
        return {"st": "occupied" if occupied else "free"}
    step = 0.02 if kind is WATER_METER else 0.4  # m³ / kWh per reading, on average
    total = sensor.state.get("total", round(rng.uniform(100, 5000), 3))
    total = round(total + step * (0.3 + rush + abs(rng.gauss(0, 0.3))), 3)
    sensor.state["total"] = total
    return {kind.measures[0].object_id: total}


def _at_grid(device_id: str, kind: SensorKind, grid: Any) -> Sensor:
    return Sensor(device_id, kind, grid.centroid_lon, grid.centroid_lat, grid.code)


def _traffic_counters(store: Store, rng: random.Random, count: int) -> list[Sensor]:
    with store.connect() as conn:
        rows = conn.execute(
            select(geo_road_edge.c.id, geo_road_edge.c.name, geo_road_edge.c.geometry).order_by(
                geo_road_edge.c.id
            )
        ).all()
    if not rows or count <= 0:
        return []
    index = GridIndex.load(store)
    counters = []
    for row in rng.sample(rows, min(count, len(rows))):
        middle = row.geometry.interpolate(0.5, normalized=True)
        location = index.locate(middle.x, middle.y)
        grid_code = location.grid_code if location else index.nearest(middle.x, middle.y)[0][0]
        sensor = Sensor(
            f"tf-{row.id:06d}",
            TRAFFIC_FLOW,
            round(middle.x, 6),
            round(middle.y, 6),
            grid_code,
            static=({"name": "roadName", "type": "Property", "value": row.name},),
        )
        counters.append(sensor)
    return counters


def _relationship(name: str, target: str) -> dict[str, Any]:
    return {"name": name, "type": "Relationship", "object": target}
