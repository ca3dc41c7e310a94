"""NGSI-LD batch operations over HTTP, on the backend under test."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.ngsi_ld.test_entities_api import BASE, JSON, client, station

__all__ = ["client"]
OPS = f"{BASE}/entityOperations"


def post(client: TestClient, operation: str, body: Any, **params: str) -> Any:
    return client.post(f"{OPS}/{operation}", json=body, headers=JSON, params=params)


def test_create_reports_each_entity(client: TestClient) -> None:
    created = post(client, "create", [station(1), station(2)])
    assert created.status_code == 201
    assert created.json() == ["urn:ngsi-ld:Station:1", "urn:ngsi-ld:Station:2"]
    mixed = post(client, "create", [station(2), station(3), {"id": "bad id", "type": "X"}])
    assert mixed.status_code == 207
    result = mixed.json()
    assert result["success"] == ["urn:ngsi-ld:Station:3"]
    errors = {e["entityId"]: e["error"] for e in result["errors"]}
    assert errors["urn:ngsi-ld:Station:2"]["type"].endswith("AlreadyExists")
    assert errors["bad id"]["status"] == 400


def test_upsert_update_delete(client: TestClient) -> None:
    post(client, "create", [station(1)])
    upserted = post(
        client,
        "upsert",
        [{"id": "urn:ngsi-ld:Station:1", "type": "Station", "level": 1}, station(2)],
        options="update",
    )
    assert upserted.status_code == 201
    assert upserted.json() == ["urn:ngsi-ld:Station:2"]
    one = client.get(
        f"{BASE}/entities/urn:ngsi-ld:Station:1", params={"options": "keyValues"}
    ).json()
    assert one["level"] == 1 and one["temperature"] == 21
    again = post(client, "upsert", [{"id": "urn:ngsi-ld:Station:1", "type": "Station", "level": 2}])
    assert again.status_code == 204
    assert client.get(
        f"{BASE}/entities/urn:ngsi-ld:Station:1", params={"options": "keyValues"}
    ).json() == {
        "id": "urn:ngsi-ld:Station:1",
        "type": "Station",
        "level": 2,
    }
    updated = post(
        client,
        "update",
        [
            {"id": "urn:ngsi-ld:Station:1", "type": "Station", "level": 5},
            {"id": "urn:ngsi-ld:Station:9", "type": "Station", "level": 5},
        ],
        options="noOverwrite",
    )
    assert updated.status_code == 207
    assert updated.json()["errors"][0]["entityId"] == "urn:ngsi-ld:Station:9"
    assert (
        client.get(
            f"{BASE}/entities/urn:ngsi-ld:Station:1", params={"options": "keyValues"}
        ).json()["level"]
        == 2
    )
    deleted = post(client, "delete", ["urn:ngsi-ld:Station:1", "urn:ngsi-ld:Station:404", 5])
    assert deleted.status_code == 207
    assert deleted.json()["success"] == ["urn:ngsi-ld:Station:1"]
    assert len(deleted.json()["errors"]) == 2
    assert post(client, "delete", ["urn:ngsi-ld:Station:2"]).status_code == 204
    assert post(client, "delete", []).status_code == 400
    assert post(client, "delete", {"id": 1}).status_code == 400


def test_query_body(client: TestClient) -> None:
    post(client, "create", [station(n) for n in range(1, 5)])
    query = {
        "type": "Query",
        "entities": [{"type": "Station"}],
        "q": "temperature<23",
        "attrs": ["temperature"],
    }
    found = post(client, "query", query, count="true", options="keyValues")
    assert found.status_code == 200
    assert found.json() == [
        {"id": "urn:ngsi-ld:Station:1", "type": "Station", "temperature": 21},
        {"id": "urn:ngsi-ld:Station:2", "type": "Station", "temperature": 22},
    ]
    assert found.headers["NGSILD-Results-Count"] == "2"
    assert post(client, "query", {"type": "Nope"}).status_code == 400
    assert post(client, "query", {"type": "Query"}).status_code == 400


def test_json_ld_batch_entities_carry_their_context(client: TestClient) -> None:
    context = {"level": "https://example.org/level"}
    core = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
    batch = [
        {"id": "urn:ngsi-ld:Tank:1", "type": "Tank", "level": 1, "@context": [context, core]},
        {"id": "urn:ngsi-ld:Tank:2", "type": "Tank", "level": 2, "@context": core},
    ]
    created = client.post(
        f"{OPS}/create", json=batch, headers={"Content-Type": "application/ld+json"}
    )
    assert created.status_code == 201
    one = client.get(f"{BASE}/entities/urn:ngsi-ld:Tank:1", params={"options": "keyValues"}).json()
    two = client.get(f"{BASE}/entities/urn:ngsi-ld:Tank:2", params={"options": "keyValues"}).json()
    assert one["https://example.org/level"] == 1
    assert two["level"] == 2
    plain = client.post(f"{OPS}/create", json=batch, headers=JSON)
    assert plain.status_code == 400
