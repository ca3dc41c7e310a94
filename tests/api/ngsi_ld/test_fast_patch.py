"""The attribute PATCH routes answered ahead of FastAPI's routing: same answers as the routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.api.ngsi_ld import fast_patch
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store

BASE = "/ngsi-ld/v1"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
JSON = {"Content-Type": "application/json"}
STATION = "urn:ngsi-ld:Station:1"


@pytest.fixture
def client(store: Store, clock: FixedClock, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, max_body_bytes=4_000)
    platform = Platform.open(settings, store=store, clock=clock, migrate=False)
    with TestClient(create_app(platform), raise_server_exceptions=False) as test_client:
        document = {"id": STATION, "type": "Station", "temperature": {"value": 20}}
        assert test_client.post(f"{BASE}/entities", json=document, headers=JSON).status_code == 201
        yield test_client


@pytest.fixture
def answered_fast(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths the fast path answered (so a test knows which side replied)."""
    seen: list[str] = []
    original = fast_patch.patch_attribute_of

    async def spy(ngsi: Any, platform: Any, entity_id: str, attribute: str) -> Any:
        seen.append(f"{BASE}/entities/{entity_id}/attrs/{attribute}")
        return await original(ngsi, platform, entity_id, attribute)

    monkeypatch.setattr(fast_patch, "patch_attribute_of", spy)
    return seen


def problem(response: Any) -> tuple[int, str]:
    return response.status_code, str(response.json()["type"]).removeprefix(ERRORS)


def test_a_patch_is_answered_before_routing_and_stored(
    client: TestClient, answered_fast: list[str]
) -> None:
    path = f"{BASE}/entities/{STATION}/attrs/temperature"
    assert client.patch(path, json={"value": 25}, headers=JSON).status_code == 204
    assert answered_fast == [path]
    entity = client.get(f"{BASE}/entities/{STATION}", params={"options": "keyValues"}).json()
    assert entity["temperature"] == 25


def test_errors_are_the_same_problem_documents(client: TestClient) -> None:
    attribute = f"{BASE}/entities/{STATION}/attrs/temperature"
    missing = f"{BASE}/entities/urn:ngsi-ld:Station:9/attrs/temperature"
    assert problem(client.patch(missing, json={"value": 1}, headers=JSON)) == (
        404,
        "ResourceNotFound",
    )
    unknown = f"{BASE}/entities/{STATION}/attrs/humidity"
    assert problem(client.patch(unknown, json={"value": 1}, headers=JSON))[0] == 404
    assert problem(client.patch(attribute, content=b"{nope", headers=JSON)) == (
        400,
        "BadRequestData",
    )
    assert (
        client.patch(attribute, content=b"1", headers={"Content-Type": "text/plain"}).status_code
        == 415
    )
    not_uri = f"{BASE}/entities/not-a-uri/attrs/temperature"
    assert problem(client.patch(not_uri, json={"value": 1}, headers=JSON)) == (
        400,
        "BadRequestData",
    )
    ghost = client.patch(attribute, json={"value": 1}, headers={**JSON, "NGSILD-Tenant": "ghost"})
    assert ghost.status_code == 404
    too_big = client.patch(attribute, json={"value": "x" * 5_000}, headers=JSON)
    assert too_big.status_code == 413
    assert too_big.headers["content-type"].startswith("application/problem+json")


def test_updating_attributes_reports_what_was_skipped(client: TestClient) -> None:
    path = f"{BASE}/entities/{STATION}/attrs"
    body = {"temperature": {"type": "Property", "value": 3}, "humidity": {"value": 50}}
    answer = client.patch(path, json=body, headers=JSON)
    assert answer.status_code == 207
    assert answer.json()["updated"] == ["temperature"]
    assert [n["attributeName"] for n in answer.json()["notUpdated"]] == ["humidity"]


def test_other_methods_on_the_same_paths_still_route(client: TestClient) -> None:
    path = f"{BASE}/entities/{STATION}/attrs/temperature"
    assert client.delete(path).status_code == 204
    assert client.get(f"{BASE}/entities/{STATION}").json().get("temperature") is None


def test_the_answers_carry_what_the_routed_answers_carry(client: TestClient) -> None:
    # 204 without a body or headers of its own; JSON-LD asked for in Accept on a 207.
    path = f"{BASE}/entities/{STATION}/attrs/temperature"
    answer = client.patch(path, json={"value": 21.5}, headers={**JSON, "Accept": "*/*"})
    assert answer.status_code == 204
    assert answer.content == b""
    assert "content-type" not in answer.headers
    several = client.patch(
        f"{BASE}/entities/{STATION}/attrs",
        json={"humidity": {"value": 50}},
        headers={**JSON, "Accept": "application/ld+json"},
    )
    assert several.status_code == 207
    assert several.headers["content-type"].startswith("application/ld+json")
    assert "@context" in several.json()
    refused = client.patch(path, json={"value": 1}, headers={**JSON, "Accept": "text/csv"})
    assert problem(refused)[0] == 406
    bad_tenant = client.patch(path, json={"value": 1}, headers={**JSON, "NGSILD-Tenant": "a b"})
    assert problem(bad_tenant) == (400, "BadRequestData")
