"""The NGSI-LD entity endpoints over HTTP, on the backend under test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcity.api import create_app
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

BASE = "/ngsi-ld/v1"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
JSON = {"Content-Type": "application/json"}
LD = {"Content-Type": "application/ld+json"}


@pytest.fixture
def client(store: Store, clock: FixedClock, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, max_body_bytes=4_000_000)
    platform = Platform.open(settings, store=store, clock=clock, migrate=False)
    with TestClient(create_app(platform), raise_server_exceptions=False) as test_client:
        yield test_client


def station(number: int = 1, **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Station:{number}",
        "type": "Station",
        "temperature": {"type": "Property", "value": 20 + number, "unitCode": "CEL"},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Organization:1"},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [113.2, 23.1]},
        },
    }
    document.update(extra)
    return document


def create(client: TestClient, document: dict[str, Any], **headers: str) -> Any:
    return client.post(f"{BASE}/entities", json=document, headers={**JSON, **headers})


def problem_type(response: Any) -> str:
    return str(response.json()["type"]).removeprefix(ERRORS)


def test_create_retrieve_delete(client: TestClient) -> None:
    created = create(client, station())
    assert created.status_code == 201
    assert created.headers["location"] == f"{BASE}/entities/urn:ngsi-ld:Station:1"
    again = create(client, station())
    assert (again.status_code, problem_type(again)) == (409, "AlreadyExists")

    got = client.get(f"{BASE}/entities/urn:ngsi-ld:Station:1")
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/json"
    assert CORE in got.headers["link"]
    assert got.json() == station()

    key_values = client.get(
        f"{BASE}/entities/urn:ngsi-ld:Station:1", params={"options": "keyValues"}
    ).json()
    assert key_values["temperature"] == 21 and key_values["owner"] == "urn:ngsi-ld:Organization:1"
    simplified = client.get(
        f"{BASE}/entities/urn:ngsi-ld:Station:1", params={"format": "simplified"}
    )
    assert simplified.json() == key_values
    concise = client.get(
        f"{BASE}/entities/urn:ngsi-ld:Station:1", params={"options": "concise"}
    ).json()
    assert concise["owner"] == {"object": "urn:ngsi-ld:Organization:1"}
    assert concise["location"] == {"type": "Point", "coordinates": [113.2, 23.1]}
    with_sys = client.get(
        f"{BASE}/entities/urn:ngsi-ld:Station:1",
        params={"options": "sysAttrs", "attrs": "temperature"},
    ).json()
    assert set(with_sys) == {"id", "type", "createdAt", "modifiedAt", "temperature"}
    assert with_sys["temperature"]["createdAt"] == "2026-11-21T09:00:00.000Z"
    assert (
        client.get(f"{BASE}/entities/urn:ngsi-ld:Station:1", params={"type": "Meter"}).status_code
        == 404
    )

    ld = client.get(
        f"{BASE}/entities/urn:ngsi-ld:Station:1", headers={"Accept": "application/ld+json"}
    )
    assert ld.headers["content-type"] == "application/ld+json"
    assert ld.json()["@context"] == CORE

    assert client.delete(f"{BASE}/entities/urn:ngsi-ld:Station:1").status_code == 204
    missing = client.get(f"{BASE}/entities/urn:ngsi-ld:Station:1")
    assert (missing.status_code, problem_type(missing)) == (404, "ResourceNotFound")
    assert client.delete(f"{BASE}/entities/urn:ngsi-ld:Station:1").status_code == 404


def test_bad_requests(client: TestClient) -> None:
    malformed = client.post(f"{BASE}/entities", content=b"{not json", headers=JSON)
    assert (malformed.status_code, problem_type(malformed)) == (400, "BadRequestData")
    assert "valid JSON" in malformed.json()["detail"]
    text = client.post(f"{BASE}/entities", content=b"{}", headers={"Content-Type": "text/plain"})
    assert text.status_code == 415
    bad_id = create(client, station(id="not a uri"))
    assert (bad_id.status_code, problem_type(bad_id)) == (400, "BadRequestData")
    bad_geometry = create(client, station(location={"type": "Point", "coordinates": [500, 0]}))
    assert bad_geometry.status_code == 400 and "longitude" in bad_geometry.json()["detail"]
    with_context = create(client, {**station(), "@context": CORE})
    assert with_context.status_code == 400
    assert client.get(f"{BASE}/entities/nocolon").status_code == 400
    tenant = client.get(f"{BASE}/entities/urn:a:1", headers={"NGSILD-Tenant": "bad tenant!"})
    assert tenant.status_code == 400
    unknown = client.get(f"{BASE}/entities/urn:a:1", headers={"NGSILD-Tenant": "ghost"})
    assert (unknown.status_code, problem_type(unknown)) == (404, "NonexistentTenant")


def test_json_ld_body_and_user_context(client: TestClient) -> None:
    context = {"temp": "https://example.org/temperature", "Station": "https://example.org/Station"}
    document = {
        "id": "urn:ngsi-ld:Station:7",
        "type": "Station",
        "temp": 5,
        "@context": [context, CORE],
    }
    assert client.post(f"{BASE}/entities", json=document, headers=LD).status_code == 201
    # Through the core context alone the names come back as full IRIs.
    plain = client.get(
        f"{BASE}/entities/urn:ngsi-ld:Station:7", params={"options": "keyValues"}
    ).json()
    assert plain["type"] == "https://example.org/Station"
    assert plain["https://example.org/temperature"] == 5


def test_tenants_are_isolated(client: TestClient) -> None:
    assert create(client, station(), **{"NGSILD-Tenant": "water"}).status_code == 201
    assert client.get(f"{BASE}/entities/urn:ngsi-ld:Station:1").status_code == 404
    found = client.get(f"{BASE}/entities/urn:ngsi-ld:Station:1", headers={"NGSILD-Tenant": "water"})
    assert found.status_code == 200


def test_attribute_operations(client: TestClient) -> None:
    create(client, station())
    url = f"{BASE}/entities/urn:ngsi-ld:Station:1"
    appended = client.post(f"{url}/attrs", json={"humidity": {"value": 40}}, headers=JSON)
    assert appended.status_code == 204
    skipped = client.post(
        f"{url}/attrs",
        params={"options": "noOverwrite"},
        json={"humidity": 1, "wind": 3},
        headers=JSON,
    )
    assert skipped.status_code == 207
    assert skipped.json()["updated"] == ["wind"]
    assert skipped.json()["notUpdated"][0]["attributeName"] == "humidity"

    updated = client.patch(
        f"{url}/attrs", json={"temperature": {"type": "Property", "value": 30}}, headers=JSON
    )
    assert updated.status_code == 204
    partial = client.patch(f"{url}/attrs", json={"temperature": 31, "pressure": 1000}, headers=JSON)
    assert partial.status_code == 207
    assert partial.json()["notUpdated"][0]["attributeName"] == "pressure"

    patched = client.patch(
        f"{url}/attrs/temperature",
        json={"value": 33, "observedAt": "2026-11-21T09:00:00Z"},
        headers=JSON,
    )
    assert patched.status_code == 204
    temperature = client.get(url).json()["temperature"]
    assert temperature == {
        "type": "Property",
        "value": 33,
        "observedAt": "2026-11-21T09:00:00.000Z",
    }
    assert client.patch(f"{url}/attrs/nothing", json={"value": 1}, headers=JSON).status_code == 404

    client.post(
        f"{url}/attrs",
        json={"speed": [{"value": 1}, {"value": 2, "datasetId": "urn:ngsi-ld:Dataset:gps"}]},
        headers=JSON,
    )
    assert len(client.get(url).json()["speed"]) == 2
    assert (
        client.delete(
            f"{url}/attrs/speed", params={"datasetId": "urn:ngsi-ld:Dataset:gps"}
        ).status_code
        == 204
    )
    assert client.get(url).json()["speed"] == {"type": "Property", "value": 1}
    assert client.delete(f"{url}/attrs/speed", params={"deleteAll": "true"}).status_code == 204
    assert "speed" not in client.get(url).json()
    assert client.delete(f"{url}/attrs/speed").status_code == 404

    replaced = client.put(url, json={"type": "Station", "level": 2}, headers=JSON)
    assert replaced.status_code == 204
    assert client.get(url).json() == {
        "id": "urn:ngsi-ld:Station:1",
        "type": "Station",
        "level": {"type": "Property", "value": 2},
    }


def test_query(client: TestClient) -> None:
    for number in range(1, 6):
        create(client, station(number))
    create(client, {"id": "urn:ngsi-ld:Meter:1", "type": "Meter", "reading": 3})
    page = client.get(f"{BASE}/entities", params={"type": "Station", "limit": 2, "count": "true"})
    assert page.status_code == 200
    assert [e["id"] for e in page.json()] == ["urn:ngsi-ld:Station:1", "urn:ngsi-ld:Station:2"]
    assert page.headers["NGSILD-Results-Count"] == "5"
    second = client.get(f"{BASE}/entities", params={"type": "Station", "limit": 2, "offset": 4})
    assert [e["id"] for e in second.json()] == ["urn:ngsi-ld:Station:5"]
    by_id = client.get(
        f"{BASE}/entities",
        params={
            "id": "urn:ngsi-ld:Meter:1,urn:ngsi-ld:Station:2",
            "options": "keyValues",
            "attrs": "reading",
        },
    )
    assert by_id.json() == [
        {"id": "urn:ngsi-ld:Meter:1", "type": "Meter", "reading": 3},
    ]
    pattern = client.get(f"{BASE}/entities", params={"idPattern": "Station:[45]$"})
    assert [e["id"] for e in pattern.json()] == ["urn:ngsi-ld:Station:4", "urn:ngsi-ld:Station:5"]
    filtered = client.get(f"{BASE}/entities", params={"type": "Station", "q": "temperature>=24"})
    assert [e["id"] for e in filtered.json()] == ["urn:ngsi-ld:Station:4", "urn:ngsi-ld:Station:5"]
    assert client.get(f"{BASE}/entities").status_code == 400
    assert (
        client.get(f"{BASE}/entities", params={"type": "Station", "limit": 5000}).status_code == 400
    )
    assert (
        client.get(f"{BASE}/entities", params={"type": "Station", "q": "temperature>>"}).status_code
        == 400
    )


def test_user_context_by_link_header(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from smartcity.api.ngsi_ld import common
    from smartcity.kernel.context.jsonld import ContextResolver

    url = "https://example.org/city-context.jsonld"
    document = b'{"@context": {"Sensor": "https://example.org/Sensor", "level": "https://example.org/level"}}'
    resolver = ContextResolver(fetch=lambda _url, _timeout, _limit: document)
    monkeypatch.setattr(common, "shared_resolver", lambda: resolver)
    link = f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
    entity = {"id": "urn:ngsi-ld:Sensor:1", "type": "Sensor", "level": 4}
    assert (
        client.post(f"{BASE}/entities", json=entity, headers={**JSON, "Link": link}).status_code
        == 201
    )
    got = client.get(
        f"{BASE}/entities/urn:ngsi-ld:Sensor:1",
        params={"options": "keyValues"},
        headers={"Link": link},
    )
    assert got.json() == {"id": "urn:ngsi-ld:Sensor:1", "type": "Sensor", "level": 4}
    assert url in got.headers["link"]
    core = client.get(
        f"{BASE}/entities/urn:ngsi-ld:Sensor:1", params={"options": "keyValues"}
    ).json()
    assert core["https://example.org/level"] == 4
    ld = client.get(
        f"{BASE}/entities",
        params={"type": "Sensor"},
        headers={"Link": link, "Accept": "application/ld+json"},
    )
    assert ld.headers["content-type"] == "application/ld+json"
    assert ld.json()[0]["@context"] == url


def test_geo_query(client: TestClient) -> None:
    create(client, station(1))
    create(client, station(2, location={"type": "Point", "coordinates": [116.4, 39.9]}))
    near = client.get(
        f"{BASE}/entities",
        params={
            "type": "Station",
            "georel": "near;maxDistance==5000",
            "geometry": "Point",
            "coordinates": "[113.2,23.1]",
        },
    )
    assert near.status_code == 200
    assert [e["id"] for e in near.json()] == ["urn:ngsi-ld:Station:1"]
    bad = client.get(
        f"{BASE}/entities",
        params={"type": "Station", "georel": "near", "geometry": "Point", "coordinates": "[1]"},
    )
    assert bad.status_code == 400


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
        st.sampled_from(
            ["urn:a:1", "Property", "Relationship", "GeoProperty", "Point", "2026-11-21T09:00:00Z"]
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.one_of(
                st.sampled_from(
                    [
                        "id",
                        "type",
                        "value",
                        "object",
                        "languageMap",
                        "datasetId",
                        "observedAt",
                        "unitCode",
                        "coordinates",
                        "location",
                        "@context",
                    ]
                ),
                st.text(max_size=6),
            ),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(json_values)
def test_any_body_gets_a_client_error_or_success_never_500(client: TestClient, body: Any) -> None:
    for method, path in (
        ("POST", "/entities"),
        ("POST", "/entityOperations/upsert"),
        ("PATCH", "/entities/urn:ngsi-ld:Station:1/attrs"),
        ("PATCH", "/entities/urn:ngsi-ld:Station:1/attrs/temperature"),
    ):
        document = body
        if method == "POST" and path == "/entities" and isinstance(body, dict):
            document = {"id": "urn:ngsi-ld:Fuzz:1", "type": "Fuzz", **body}
        response = client.request(method, BASE + path, content=json.dumps(document), headers=JSON)
        assert response.status_code < 500, (path, document, response.text)
    create(client, station())


def test_hostile_values_are_bad_request_data(client: TestClient) -> None:
    deep: Any = 1
    for _ in range(300):
        deep = [deep]
    for value in (deep, "nul\x00text", {"k": "a\x00"}):
        response = create(client, station(99, level={"value": value}))
        assert response.status_code == 400, value
    assert create(client, station(98, id="urn:a\x00b")).status_code == 400
