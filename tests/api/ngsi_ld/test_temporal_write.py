"""POST/PATCH/DELETE on /ngsi-ld/v1/temporal/entities: history written, changed, deleted."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from smartcity.kernel.context.tables import context_entity
from smartcity.kernel.storage import Store

BASE = "/ngsi-ld/v1/temporal/entities"
STATION = "urn:ngsi-ld:AirQualityObserved:station-9"


def measurement(value: float, at: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, "observedAt": at, **extra}


TEMPORAL_ENTITY = {
    "id": STATION,
    "type": "AirQualityObserved",
    "no2": [
        measurement(12.0, "2026-11-20T02:00:00Z"),
        measurement(10.0, "2026-11-20T00:00:00Z"),
        measurement(11.0, "2026-11-20T01:00:00Z", unitCode="GQ"),
    ],
    "pm10": measurement(40.0, "2026-11-20T00:00:00Z", datasetId="urn:ngsi-ld:Dataset:raw"),
}


def history(client: TestClient, **params: str) -> Any:
    response = client.get(f"{BASE}/{STATION}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_posting_a_temporal_entity_stores_its_instances(client: TestClient, store: Store) -> None:
    response = client.post(BASE, json=TEMPORAL_ENTITY)
    assert response.status_code == 201, response.text
    assert response.headers["location"].endswith(STATION)
    entity = history(client)
    assert entity["type"] == "AirQualityObserved"
    assert [i["value"] for i in entity["no2"]] == [10.0, 11.0, 12.0]
    assert entity["no2"][1]["unitCode"] == "GQ"
    assert entity["pm10"][0]["datasetId"] == "urn:ngsi-ld:Dataset:raw"
    # History only: the current entity is the entity API's to write.
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(context_entity)).scalar_one() == 0


def test_posting_again_adds_to_the_history(client: TestClient) -> None:
    client.post(BASE, json=TEMPORAL_ENTITY)
    more = {
        "id": STATION,
        "type": "AirQualityObserved",
        "no2": measurement(13.0, "2026-11-20T03:00:00Z"),
    }
    assert client.post(BASE, json=more).status_code == 204
    assert [i["value"] for i in history(client)["no2"]] == [10.0, 11.0, 12.0, 13.0]


def test_adding_attributes(client: TestClient) -> None:
    client.post(BASE, json=TEMPORAL_ENTITY)
    body = {
        "o3": [measurement(5.0, "2026-11-20T00:00:00Z"), measurement(6.0, "2026-11-20T01:00:00Z")]
    }
    assert client.post(f"{BASE}/{STATION}/attrs", json=body).status_code == 204
    assert [i["value"] for i in history(client)["o3"]] == [5.0, 6.0]
    missing = client.post(f"{BASE}/urn:ngsi-ld:Thing:none/attrs", json=body)
    assert missing.status_code == 404


def test_modifying_one_instance(client: TestClient) -> None:
    client.post(BASE, json=TEMPORAL_ENTITY)
    first = history(client)["no2"][0]
    url = f"{BASE}/{STATION}/attrs/no2/{first['instanceId']}"
    assert client.patch(url, json={"value": 9.5}).status_code == 204
    changed = history(client)["no2"][0]
    assert changed["value"] == 9.5
    assert changed["instanceId"] == first["instanceId"]
    assert changed["observedAt"] == "2026-11-20T00:00:00Z"
    gone = client.patch(f"{BASE}/{STATION}/attrs/no2/urn:ngsi-ld:none", json={"value": 1})
    assert gone.status_code == 404


def test_an_instance_id_names_one_instance_of_its_own_attribute(client: TestClient) -> None:
    """instanceIds are derived from the history row's number (decision 0016): one names
    no instance of another attribute, entity or tenant, and a malformed one none."""
    client.post(BASE, json=TEMPORAL_ENTITY)
    first = history(client)["no2"][0]["instanceId"]
    prefix, number = first.rsplit(":", 1)
    elsewhere = [
        f"{BASE}/{STATION}/attrs/pm10/{first}",
        f"{BASE}/urn:ngsi-ld:Thing:none/attrs/no2/{first}",
        f"{BASE}/{STATION}/attrs/no2/{prefix}:{number}0000",
        f"{BASE}/{STATION}/attrs/no2/{prefix}:{'9' * 30}",
        f"{BASE}/{STATION}/attrs/no2/{prefix}:-1",
        f"{BASE}/{STATION}/attrs/no2/{prefix}:",
    ]
    for url in elsewhere:
        assert client.patch(url, json={"value": 1.0}).status_code == 404, url
    mine = f"{BASE}/{STATION}/attrs/no2/{first}"
    other = client.patch(mine, json={"value": 1.0}, headers={"NGSILD-Tenant": "other"})
    assert other.status_code == 404
    assert history(client)["no2"][0]["value"] == 10.0


def test_deleting_attributes(client: TestClient) -> None:
    client.post(BASE, json=TEMPORAL_ENTITY)
    assert client.delete(f"{BASE}/{STATION}/attrs/no2").status_code == 204
    assert "no2" not in history(client)
    assert client.delete(f"{BASE}/{STATION}/attrs/no2").status_code == 404
    # pm10 only has a datasetId instance: the default one is not there.
    assert client.delete(f"{BASE}/{STATION}/attrs/pm10").status_code == 404
    raw = "datasetId=urn:ngsi-ld:Dataset:raw"
    assert client.delete(f"{BASE}/{STATION}/attrs/pm10?{raw}").status_code == 204
    # With its last attribute gone the entity has no history left.
    assert client.get(f"{BASE}/{STATION}").status_code == 404


def test_deleting_the_entity(client: TestClient) -> None:
    client.post(BASE, json=TEMPORAL_ENTITY)
    assert client.delete(f"{BASE}/{STATION}/attrs/pm10?deleteAll=true").status_code == 204
    assert client.delete(f"{BASE}/{STATION}").status_code == 204
    assert client.get(f"{BASE}/{STATION}").status_code == 404
    assert client.delete(f"{BASE}/{STATION}").status_code == 404


def test_a_temporal_entity_needs_id_and_type(client: TestClient) -> None:
    response = client.post(
        BASE, json={"id": STATION, "no2": measurement(1.0, "2026-11-20T00:00:00Z")}
    )
    assert response.status_code == 400
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
