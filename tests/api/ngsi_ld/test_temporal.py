"""GET /ngsi-ld/v1/temporal/entities: representations, aggregation, errors, tenants."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.kernel.storage import Store
from tests.kernel.context.test_temporal_support import at, insert, row

BASE = "/ngsi-ld/v1/temporal/entities"
STATION = "urn:ngsi-ld:AirQualityObserved:station-1"
SPOT = "urn:ngsi-ld:ParkingSpot:spot-1"
BAD_REQUEST = "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
DAY = {"timerel": "between", "timeAt": "2026-11-20T00:00:00Z", "endTimeAt": "2026-11-21T00:00:00Z"}


@pytest.fixture(autouse=True)
def history(store: Store) -> None:
    insert(
        store,
        [
            row(STATION, "no2", 1.0, at(minutes=0)),
            row(STATION, "no2", 3.0, at(minutes=30)),
            row(STATION, "no2", 8.0, at(hours=2)),
            row(SPOT, "status", "free", at(minutes=5), entity_type="ParkingSpot"),
            row(STATION, "no2", 99.0, at(minutes=1), tenant="transport"),
        ],
    )


def get(client: TestClient, path: str = BASE, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response


def test_query_by_type_answers_the_normalized_history(client: TestClient) -> None:
    response = get(client, type="AirQualityObserved", **DAY)
    [entity] = response.json()
    assert entity["id"] == STATION and entity["type"] == "AirQualityObserved"
    assert [i["value"] for i in entity["no2"]] == [1.0, 3.0, 8.0]
    assert entity["no2"][0]["observedAt"] == "2026-11-20T00:00:00Z"
    assert all(i["instanceId"].startswith("urn:") for i in entity["no2"])
    assert "ngsi-ld-core-context" in response.headers["link"]


def test_temporal_values_are_value_time_pairs(client: TestClient) -> None:
    [entity] = get(client, id=STATION, options="temporalValues", lastN="2").json()
    assert entity["no2"] == {
        "type": "Property",
        "values": [[3.0, "2026-11-20T00:30:00Z"], [8.0, "2026-11-20T02:00:00Z"]],
    }


def test_hourly_average_over_a_day(client: TestClient) -> None:
    entity = get(
        client,
        f"{BASE}/{STATION}",
        options="aggregatedValues",
        aggrMethods="avg,totalCount",
        aggrPeriodDuration="PT1H",
        **DAY,
    ).json()
    assert entity["no2"]["avg"] == [
        [2.0, "2026-11-20T00:00:00Z", "2026-11-20T01:00:00Z"],
        [8.0, "2026-11-20T02:00:00Z", "2026-11-20T03:00:00Z"],
    ]
    assert [item[0] for item in entity["no2"]["totalCount"]] == [2, 1]


def test_count_and_pages(client: TestClient) -> None:
    response = get(client, type="AirQualityObserved,ParkingSpot", count="true", limit="1")
    assert response.headers["NGSILD-Results-Count"] == "2"
    assert [e["id"] for e in response.json()] == [STATION]


def test_tenant_header_selects_the_tenants_history(client: TestClient) -> None:
    response = client.get(f"{BASE}/{STATION}", headers={"NGSILD-Tenant": "transport"})
    assert [i["value"] for i in response.json()["no2"]] == [99.0]
    assert client.get(f"{BASE}/{SPOT}", headers={"NGSILD-Tenant": "transport"}).status_code == 404


def test_json_ld_answers_carry_the_context(client: TestClient) -> None:
    response = client.get(f"{BASE}/{SPOT}", headers={"Accept": "application/ld+json"})
    assert response.headers["content-type"].startswith("application/ld+json")
    assert "@context" in response.json()


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"timerel": "before"}, "timeAt"),
        ({"timerel": "between", "timeAt": "2026-11-20T00:00:00Z"}, "endTimeAt"),
        ({"timerel": "after", "timeAt": "yesterday"}, "ISO 8601"),
        ({"timerel": "during", "timeAt": "2026-11-20T00:00:00Z"}, "timerel"),
        ({"timeproperty": "deletedAt"}, "timeproperty"),
        ({"lastN": "0"}, "lastN"),
        ({"options": "aggregatedValues"}, "aggrMethods"),
        ({"options": "aggregatedValues", "aggrMethods": "median"}, "median"),
        (
            {"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "P1M"},
            "months",
        ),
        ({"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "1h"}, "1h"),
        ({"idPattern": "(unclosed"}, "regular expression"),
    ],
)
def test_bad_parameters_are_bad_request_data(
    client: TestClient, params: dict[str, str], reason: str
) -> None:
    response = client.get(BASE, params={"type": "AirQualityObserved", **params})
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["type"] == BAD_REQUEST
    assert reason in problem["detail"]


def test_unknown_entity_is_not_found(client: TestClient) -> None:
    response = client.get(f"{BASE}/urn:ngsi-ld:Thing:none")
    assert response.status_code == 404
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"
