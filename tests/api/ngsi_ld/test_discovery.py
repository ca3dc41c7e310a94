"""NGSI-LD discovery over HTTP: /types and /attributes, on the backend under test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

BASE = "/ngsi-ld/v1"
VOCABULARY = "https://uri.etsi.org/ngsi-ld/default-context/"
JSON = {"Content-Type": "application/json"}
ENTITIES: list[dict[str, Any]] = [
    {
        "id": "urn:ngsi-ld:Station:1",
        "type": "Station",
        "temperature": {"type": "Property", "value": 21},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Organization:1"},
    },
    {
        "id": "urn:ngsi-ld:Station:2",
        "type": ["Station", "Device"],
        "temperature": [
            {"type": "Property", "value": 22},
            {"type": "Property", "value": 23, "datasetId": "urn:ngsi-ld:dataset:b"},
        ],
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [119.6, 39.9]},
        },
    },
    {
        "id": "urn:ngsi-ld:Meter:1",
        "type": "Meter",
        "owner": {"type": "Property", "value": "city"},
    },
]


@pytest.fixture
def client(store: Store, clock: FixedClock, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, max_body_bytes=4_000_000)
    platform = Platform.open(settings, store=store, clock=clock, migrate=False)
    with TestClient(create_app(platform), raise_server_exceptions=False) as test_client:
        for document in ENTITIES:
            created = test_client.post(f"{BASE}/entities", json=document, headers=JSON)
            assert created.status_code == 201, created.text
        yield test_client


def test_type_list(client: TestClient) -> None:
    body = client.get(f"{BASE}/types").json()
    assert body["type"] == "EntityTypeList"
    assert body["id"].startswith("urn:ngsi-ld:EntityTypeList:")
    assert body["typeList"] == ["Device", "Meter", "Station"]


def test_type_details(client: TestClient) -> None:
    body = client.get(f"{BASE}/types", params={"details": "true"}).json()
    assert body == [
        {
            "id": VOCABULARY + "Device",
            "type": "EntityType",
            "typeName": "Device",
            "attributeNames": ["location", "temperature"],
        },
        {
            "id": VOCABULARY + "Meter",
            "type": "EntityType",
            "typeName": "Meter",
            "attributeNames": ["owner"],
        },
        {
            "id": VOCABULARY + "Station",
            "type": "EntityType",
            "typeName": "Station",
            "attributeNames": ["location", "owner", "temperature"],
        },
    ]


def test_type_info(client: TestClient) -> None:
    response = client.get(f"{BASE}/types/Station")
    assert response.status_code == 200
    assert response.json() == {
        "id": VOCABULARY + "Station",
        "type": "EntityTypeInfo",
        "typeName": "Station",
        "entityCount": 2,
        "attributeDetails": [
            {
                "id": "https://uri.etsi.org/ngsi-ld/location",
                "type": "Attribute",
                "attributeName": "location",
                "attributeTypes": ["GeoProperty"],
            },
            {
                "id": VOCABULARY + "owner",
                "type": "Attribute",
                "attributeName": "owner",
                "attributeTypes": ["Relationship"],
            },
            {
                "id": VOCABULARY + "temperature",
                "type": "Attribute",
                "attributeName": "temperature",
                "attributeTypes": ["Property"],
            },
        ],
    }
    # The full IRI names the same type.
    assert client.get(f"{BASE}/types/{VOCABULARY}Station").json()["entityCount"] == 2


def test_attribute_list_and_details(client: TestClient) -> None:
    body = client.get(f"{BASE}/attributes").json()
    assert body["type"] == "AttributeList"
    assert body["id"].startswith("urn:ngsi-ld:AttributeList:")
    assert body["attributeList"] == ["location", "owner", "temperature"]
    details = client.get(f"{BASE}/attributes", params={"details": "true"}).json()
    assert [item["attributeName"] for item in details] == ["location", "owner", "temperature"]


def test_attribute_info(client: TestClient) -> None:
    assert client.get(f"{BASE}/attributes/owner").json() == {
        "id": VOCABULARY + "owner",
        "type": "Attribute",
        "attributeName": "owner",
        "attributeCount": 2,
        "attributeTypes": ["Property", "Relationship"],
        "typeNames": ["Meter", "Station"],
    }
    temperature = client.get(f"{BASE}/attributes/temperature").json()
    assert (temperature["attributeCount"], temperature["typeNames"]) == (3, ["Device", "Station"])


def test_names_no_context_term_covers_stay_full_iris(client: TestClient) -> None:
    iri = "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved"
    created = client.post(
        f"{BASE}/entities", json={"id": "urn:ngsi-ld:Air:1", "type": iri}, headers=JSON
    )
    assert created.status_code == 201, created.text
    assert iri in client.get(f"{BASE}/types").json()["typeList"]
    info = client.get(f"{BASE}/types/{iri}", headers={"Accept": "application/ld+json"})
    assert info.status_code == 200
    assert info.headers["content-type"].startswith("application/ld+json")
    assert (info.json()["typeName"], info.json()["entityCount"]) == (iri, 1)
    assert "@context" in info.json()


@pytest.mark.parametrize("path", ["/types/Nothing", "/attributes/nothing"])
def test_unknown_is_resource_not_found(client: TestClient, path: str) -> None:
    response = client.get(BASE + path)
    assert response.status_code == 404
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"


def test_tenants_are_separate(client: TestClient) -> None:
    headers = {**JSON, "NGSILD-Tenant": "transport"}
    created = client.post(
        f"{BASE}/entities", json={"id": "urn:ngsi-ld:Bus:1", "type": "Bus"}, headers=headers
    )
    assert created.status_code == 201, created.text
    assert client.get(f"{BASE}/types", headers=headers).json()["typeList"] == ["Bus"]
    assert "Bus" not in client.get(f"{BASE}/types").json()["typeList"]
    assert client.get(f"{BASE}/types/Bus").status_code == 404


def test_unknown_tenant_is_nonexistent_tenant(client: TestClient) -> None:
    response = client.get(f"{BASE}/types", headers={"NGSILD-Tenant": "nobody"})
    assert response.status_code == 404
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/NonexistentTenant"
