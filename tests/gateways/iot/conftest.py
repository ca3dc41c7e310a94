"""An IoT agent over the run's store, writing into a recording library."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import smartcity.gateways.iot.tables  # noqa: F401  (the registry table joins the metadata)
from smartcity.api import create_app
from smartcity.gateways.iot import IotAgent
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"


class RecordingLibrary:
    """Stands in for ContextLibrary: keeps every upsert_entities call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[dict[str, Any]], str]] = []

    def upsert_entities(self, tenant: str, entities: Sequence[dict[str, Any]], mode: str) -> Any:
        self.calls.append((tenant, [dict(e) for e in entities], mode))
        return {"success": [e["id"] for e in entities], "errors": []}

    def updates(self) -> list[tuple[str, dict[str, Any]]]:
        return [(tenant, entity) for tenant, entities, _ in self.calls for entity in entities]


def air_station(device_id: str = "aq-1", apikey: str = "k3y") -> dict[str, Any]:
    return {
        "device_id": device_id,
        "apikey": apikey,
        "entity_name": f"urn:ngsi-ld:AirQualityObserved:{device_id}",
        "entity_type": "AirQualityObserved",
        "timezone": "Asia/Shanghai",
        "attributes": [
            {"object_id": "t", "name": "temperature", "type": "Property", "unitCode": "CEL"},
            {"object_id": "p", "name": "pm25", "type": "Property", "unitCode": "GQ"},
            {"object_id": "l", "name": "location", "type": "GeoProperty"},
        ],
        "static_attributes": [
            {
                "name": "refDistrict",
                "type": "Relationship",
                "object": "urn:ngsi-ld:AdministrativeArea:440103",
            }
        ],
    }


@pytest.fixture
def library() -> RecordingLibrary:
    return RecordingLibrary()


@pytest.fixture
def agent(store: Store, library: RecordingLibrary, clock: FixedClock) -> IotAgent:
    return IotAgent(store, library, clock)


@pytest.fixture
def platform(store: Store, tmp_path: Path, clock: FixedClock) -> Platform:
    """A platform whose information library is the real one (platform.context)."""
    return Platform.open(Settings(data_dir=tmp_path), store=store, clock=clock, migrate=False)


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    # create_app mounts the IoT router already; mounting it again would run its lifespan
    # twice (two agents, two MQTT consumers).
    application = create_app(platform)
    with TestClient(application, raise_server_exceptions=False) as test_client:
        yield test_client
