"""The IoT agent's HTTP API: provisioning and ingestion with problem+json errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from smartcity.kernel.context.errors import ResourceNotFound
from smartcity.kernel.context.tables import context_instance, context_series
from smartcity.kernel.platform import Platform
from tests.gateways.iot.conftest import DEFAULT, air_station

TENANT = {"NGSILD-Tenant": "env"}


def test_provision_read_list_and_delete(client: TestClient) -> None:
    created = client.post("/iot/devices", json={"devices": [air_station()]}, headers=TENANT)
    assert created.status_code == 201
    assert created.json()["devices"][0]["device_id"] == "aq-1"

    assert client.get("/iot/devices/aq-1", headers=TENANT).json()["entity_type"] == (
        "AirQualityObserved"
    )
    assert client.get("/iot/devices", headers=TENANT).json()["count"] == 1
    assert client.get("/iot/devices").json()["count"] == 0  # the default tenant has none
    assert client.delete("/iot/devices/aq-1", headers=TENANT).status_code == 204
    missing = client.get("/iot/devices/aq-1", headers=TENANT)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_json_and_ultralight_measures_reach_the_library(
    client: TestClient, platform: Platform
) -> None:
    client.post("/iot/devices", json=air_station(), headers=TENANT)

    sent = client.post("/iot/json?k=k3y&i=aq-1", content=b'{"t": 21.5, "p": 12}')
    assert sent.status_code == 200 and sent.json() == {"measures": 2}
    sent = client.post(
        "/iot/d?k=k3y&i=aq-1",
        content="t|22|p|13#2026-11-21T08:59:00Z|t|21.9",
        headers={"Content-Type": "text/plain"},
    )
    assert sent.json() == {"measures": 3}

    entity = platform.context.retrieve_entity("env", "urn:ngsi-ld:AirQualityObserved:aq-1")
    [temperature] = entity[DEFAULT + "temperature"]
    assert temperature["value"] == 21.9
    assert temperature["unitCode"] == "CEL"
    assert temperature["observedAt"].startswith("2026-11-21T08:59:00")
    assert entity[DEFAULT + "pm25"][0]["value"] == 13
    assert entity[DEFAULT + "refDistrict"][0]["object"] == "urn:ngsi-ld:AdministrativeArea:440103"
    with pytest.raises(ResourceNotFound):
        platform.context.retrieve_entity("", "urn:ngsi-ld:AirQualityObserved:aq-1")
    # Every reading is an instant of the history, even two in one request.
    with platform.store.connect() as conn:
        history = conn.execute(
            select(context_instance.c.value_number)
            .join(context_series, context_series.c.id == context_instance.c.series_id)
            .where(context_series.c.name == DEFAULT + "temperature")
            .order_by(context_instance.c.seq)
        ).scalars()
        assert list(history) == [21.5, 22, 21.9]


def test_unknown_device_is_404_and_bad_payloads_are_400(client: TestClient) -> None:
    client.post("/iot/devices", json=air_station(), headers=TENANT)

    unknown = client.post("/iot/d?k=nope&i=aq-1", content="t|1")
    assert unknown.status_code == 404
    assert "under this API key" in unknown.json()["detail"]
    for path, body in [
        ("/iot/d?k=k3y&i=aq-1", b"t|1|h"),
        ("/iot/d?k=k3y&i=aq-1", b"\xff\xfe"),
        ("/iot/json?k=k3y&i=aq-1", b"{not json"),
        ("/iot/json?k=k3y", b'{"t": 1}'),
        ("/iot/devices", b"[]"),
    ]:
        answer = client.post(path, content=body, headers=TENANT)
        assert answer.status_code == 400, (path, body, answer.text)
        assert answer.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
        assert answer.json()["detail"]


def test_a_device_id_taken_is_409(client: TestClient) -> None:
    assert client.post("/iot/devices", json=air_station(), headers=TENANT).status_code == 201
    assert client.post("/iot/devices", json=air_station(), headers=TENANT).status_code == 409
