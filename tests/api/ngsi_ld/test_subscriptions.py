"""/ngsi-ld/v1/subscriptions over HTTP, and a notification end to end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from smartcity.api import create_app
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.config import Settings
from smartcity.kernel.context.events import EntityChanged
from smartcity.kernel.context.jsonld import CORE_CONTEXT_URL
from smartcity.kernel.platform import Platform
from smartcity.kernel.storage import Store
from tests.kernel.context.subscriptions.conftest import VOCABULARY, subscription
from tests.kernel.context.subscriptions.receiver import Receiver

BASE = "/ngsi-ld/v1/subscriptions"
ETSI = "https://uri.etsi.org/ngsi-ld/errors/"
URL = "http://127.0.0.1:9/notify"


@pytest.fixture
def platform(store: Store, clock: FixedClock, tmp_path: Path) -> Platform:
    return Platform.open(Settings(data_dir=tmp_path), store=store, clock=clock, migrate=False)


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform), raise_server_exceptions=False) as test_client:
        yield test_client


def create(client: TestClient, body: dict[str, Any], **headers: str) -> str:
    response = client.post(BASE, json=body, headers=headers)
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.startswith(BASE + "/")
    return location.removeprefix(BASE + "/")


def test_create_retrieve_patch_delete(client: TestClient) -> None:
    subscription_id = create(
        client, {**subscription(URL, watchedAttributes=["NO2"]), "id": "urn:ngsi-ld:Subscription:1"}
    )
    assert subscription_id == "urn:ngsi-ld:Subscription:1"
    response = client.get(f"{BASE}/{subscription_id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "json-ld#context" in response.headers["link"]
    document = response.json()
    assert document["entities"] == [{"type": "AirQualityObserved"}]
    assert document["watchedAttributes"] == ["NO2"]
    assert document["status"] == "active"
    assert document["notification"]["endpoint"] == {"uri": URL, "accept": "application/json"}
    assert document["notification"]["timesSent"] == 0
    assert "createdAt" not in document
    timed = client.get(f"{BASE}/{subscription_id}", params={"options": "sysAttrs"}).json()
    assert timed["createdAt"] == timed["modifiedAt"] == "2026-11-21T09:00:00.000Z"

    response = client.patch(f"{BASE}/{subscription_id}", json={"isActive": False})
    assert response.status_code == 204
    assert client.get(f"{BASE}/{subscription_id}").json()["status"] == "paused"

    assert client.delete(f"{BASE}/{subscription_id}").status_code == 204
    response = client.get(f"{BASE}/{subscription_id}")
    assert response.status_code == 404
    assert response.json()["type"] == ETSI + "ResourceNotFound"


def test_json_ld_bodies_and_answers(client: TestClient) -> None:
    context = {"AirQualityObserved": "https://example.org/AQ"}
    response = client.post(
        BASE,
        content=orjson.dumps({**subscription(URL), "@context": context}),
        headers={"content-type": "application/ld+json"},
    )
    assert response.status_code == 201
    location = response.headers["location"]
    answer = client.get(location, headers={"accept": "application/ld+json"})
    assert answer.headers["content-type"] == "application/ld+json"
    # Answers are compacted with the asking request's context: here the core one, which
    # does not know the creator's term, so the type comes back as its full IRI.
    assert answer.json()["@context"] == CORE_CONTEXT_URL
    assert answer.json()["entities"] == [{"type": "https://example.org/AQ"}]
    assert client.get(location, headers={"accept": "text/html"}).status_code == 406


def test_listing_with_count_and_tenants(client: TestClient) -> None:
    for number in range(3):
        create(client, {**subscription(URL), "id": f"urn:ngsi-ld:Subscription:{number}"})
    create(client, subscription(URL), **{"NGSILD-Tenant": "transport"})
    response = client.get(BASE, params={"limit": 2, "offset": 1, "count": "true"})
    assert response.status_code == 200
    assert response.headers["ngsild-results-count"] == "3"
    assert [s["id"] for s in response.json()] == [
        "urn:ngsi-ld:Subscription:1",
        "urn:ngsi-ld:Subscription:2",
    ]
    transport = client.get(BASE, headers={"NGSILD-Tenant": "transport"}).json()
    assert len(transport) == 1
    assert client.get(f"{BASE}/{transport[0]['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "BadRequestData"),
        (b"[]", 400, "BadRequestData"),
        (b'{"type": "Subscription", "entities": [{"id": "urn:x:1"}]}', 400, "BadRequestData"),
    ],
)
def test_bad_bodies(client: TestClient, body: bytes, status: int, error: str) -> None:
    response = client.post(BASE, content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    problem = response.json()
    assert problem["type"] == ETSI + error
    assert problem["detail"]


def test_bodies_must_be_json(client: TestClient) -> None:
    response = client.post(BASE, content=b"{}", headers={"content-type": "text/plain"})
    assert response.status_code == 415


def test_duplicates_and_context_in_plain_json(client: TestClient) -> None:
    body = {**subscription(URL), "id": "urn:ngsi-ld:Subscription:dup"}
    create(client, body)
    response = client.post(BASE, json=body)
    assert response.status_code == 409
    assert response.json()["type"] == ETSI + "AlreadyExists"
    response = client.post(BASE, json={**subscription(URL), "@context": {}})
    assert response.status_code == 400


def test_a_change_is_notified_and_counted(client: TestClient, platform: Platform) -> None:
    notifier = client.app.state.notifier  # started by the app's lifespan
    with Receiver() as receiver:
        subscription_id = create(
            client, subscription(receiver.url, notification={"format": "keyValues"})
        )
        platform.bus.publish(
            EntityChanged(
                tenant="",
                entity_id="urn:ngsi-ld:AirQualityObserved:1",
                types=(VOCABULARY + "AirQualityObserved",),
                operation="update",
                attributes=(VOCABULARY + "NO2",),
                entity={
                    "id": "urn:ngsi-ld:AirQualityObserved:1",
                    "type": [VOCABULARY + "AirQualityObserved"],
                    VOCABULARY + "NO2": [{"type": "Property", "value": 41}],
                },
                at=platform.clock.now(),
            )
        )
        [received] = receiver.wait_for(1)
        client.portal.call(notifier.drain)
    assert received.body["data"] == [
        {"id": "urn:ngsi-ld:AirQualityObserved:1", "type": "AirQualityObserved", "NO2": 41}
    ]
    notification = client.get(f"{BASE}/{subscription_id}").json()["notification"]
    assert notification["timesSent"] == 1
    assert notification["status"] == "ok"
    assert notification["lastSuccess"] == notification["lastNotification"]


def test_entity_writes_through_the_api_are_notified(client: TestClient, platform: Platform) -> None:
    notifier = client.app.state.notifier  # started by the app's lifespan
    with Receiver() as receiver:
        create(
            client,
            subscription(
                receiver.url,
                watchedAttributes=["NO2"],
                q="NO2>40",
                notification={"attributes": ["NO2"]},
            ),
        )
        entity = {
            "id": "urn:ngsi-ld:AirQualityObserved:1",
            "type": "AirQualityObserved",
            "NO2": {"type": "Property", "value": 50, "unitCode": "GQ"},
            "PM10": {"type": "Property", "value": 3},
        }
        assert client.post("/ngsi-ld/v1/entities", json=entity).status_code == 201
        attrs = "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:1/attrs"
        for value in (30, 60):
            response = client.patch(attrs, json={"NO2": {"type": "Property", "value": value}})
            assert response.status_code == 204
        client.portal.call(notifier.drain)
        values = [r.body["data"][0]["NO2"]["value"] for r in receiver.received]
        first = receiver.received[0].body["data"][0]
    # 30 fails q; PM10 is neither watched nor asked for.
    assert values == [50, 60]
    assert first == {
        "id": "urn:ngsi-ld:AirQualityObserved:1",
        "type": "AirQualityObserved",
        "NO2": {"type": "Property", "value": 50, "unitCode": "GQ"},
    }


def test_expiry_shows_in_the_status(client: TestClient, clock: FixedClock) -> None:
    subscription_id = create(client, subscription(URL, expiresAt="2026-11-21T10:00:00Z"))
    assert client.get(f"{BASE}/{subscription_id}").json()["status"] == "active"
    clock.advance(timedelta(hours=2))
    document = client.get(f"{BASE}/{subscription_id}").json()
    assert document["status"] == "expired"
    assert document["expiresAt"] == "2026-11-21T10:00:00.000Z"
    response = client.patch(f"{BASE}/{subscription_id}", json={"expiresAt": "2026-11-21T10:30:00Z"})
    assert response.status_code == 400
