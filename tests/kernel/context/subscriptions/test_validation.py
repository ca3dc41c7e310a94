"""Subscription bodies are validated with reasons; CRUD errors are the NGSI-LD ones."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.kernel.bus.local import LocalBus
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.errors import AlreadyExists, BadRequestData, ResourceNotFound
from smartcity.kernel.context.subscriptions import SubscriptionActions, subscription_document
from smartcity.kernel.context.subscriptions.validation import parse_subscription
from smartcity.kernel.storage import Store
from tests.kernel.context.subscriptions.conftest import VOCABULARY, subscription

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
URL = "http://127.0.0.1:9/notify"


def parse(document: Any, context: Any = None) -> Any:
    return parse_subscription(document, tenant="", context=context, now=NOW)


@pytest.fixture
def actions(store: Store, clock: FixedClock) -> SubscriptionActions:
    return SubscriptionActions(store, LocalBus(), clock)


def test_names_are_expanded_and_defaults_filled() -> None:
    parsed = parse(
        subscription(
            URL,
            watchedAttributes=["NO2"],
            q="NO2>40",
            geoQ={
                "geometry": "Point",
                "coordinates": [113.3, 23.1],
                "georel": "near;maxDistance==500",
            },
        )
    )
    assert parsed.id.startswith("urn:ngsi-ld:Subscription:")
    assert parsed.entities[0].type == VOCABULARY + "AirQualityObserved"
    assert parsed.watched_attributes == (VOCABULARY + "NO2",)
    assert parsed.geo_q.geoproperty == "https://uri.etsi.org/ngsi-ld/location"
    assert parsed.notification.format == "normalized"
    assert parsed.notification.endpoint.accept == "application/json"
    assert parsed.state(NOW) == "active"


def test_a_user_context_names_the_terms() -> None:
    parsed = parse(subscription(URL), {"AirQualityObserved": "https://example.org/AQ"})
    assert parsed.entities[0].type == "https://example.org/AQ"
    document = subscription_document(parsed, NOW)
    assert document["entities"] == [{"type": "AirQualityObserved"}]


@pytest.mark.parametrize(
    ("change", "member"),
    [
        ({"type": "Entity"}, "type"),
        ({"id": "not a uri"}, "id"),
        ({"entities": [{"id": "urn:x:1"}]}, "entities"),
        ({"entities": [{"type": "T", "idPattern": "("}]}, "entities"),
        ({"entities": []}, "entities"),
        ({"notification": None}, "notification"),
        ({"notification": {"endpoint": {"uri": "ftp://example.org/x"}}}, "notification.endpoint"),
        (
            {"notification": {"endpoint": {"uri": URL, "accept": "text/html"}}},
            "notification.endpoint",
        ),
        ({"notification": {"endpoint": {"uri": URL}, "format": "xml"}}, "notification"),
        (
            {"notification": {"endpoint": {"uri": URL, "receiverInfo": [{"key": "A"}]}}},
            "notification.endpoint.receiverInfo",
        ),
        (
            {
                "notification": {
                    "endpoint": {
                        "uri": "mqtt://h/t",
                        "notifierInfo": [{"key": "MQTT-QoS", "value": "3"}],
                    }
                }
            },
            "notification.endpoint",
        ),
        ({"throttling": -1}, "throttling"),
        ({"timeInterval": "often"}, "timeInterval"),
        ({"timeInterval": 10, "watchedAttributes": ["NO2"]}, "timeInterval"),
        ({"expiresAt": "2020-01-01T00:00:00Z"}, "expiresAt"),
        ({"expiresAt": "tomorrow"}, "expiresAt"),
        ({"isActive": "yes"}, "isActive"),
        ({"q": ""}, "q"),
        (
            {
                "geoQ": {
                    "geometry": "Circle",
                    "coordinates": [1, 2],
                    "georel": "near;maxDistance==1",
                }
            },
            "geoQ",
        ),
        ({"geoQ": {"geometry": "Point", "coordinates": [1], "georel": "within"}}, "geoQ"),
        ({"geoQ": {"geometry": "Point", "coordinates": [1, 2], "georel": "near"}}, "geoQ"),
        ({"geoQ": {"geometry": "Point", "coordinates": [1, 2], "georel": "beside"}}, "geoQ"),
        ({"notificationTrigger": ["sometimes"]}, "notificationTrigger"),
    ],
)
def test_invalid_members_are_refused_with_the_member_named(
    change: dict[str, Any], member: str
) -> None:
    document = {**subscription(URL), **change}
    with pytest.raises(BadRequestData) as caught:
        parse(document)
    assert caught.value.details.get("member") == member


def test_a_subscription_needs_entities_or_watched_attributes() -> None:
    document = subscription(URL)
    del document["entities"]
    with pytest.raises(BadRequestData, match="entities or watchedAttributes"):
        parse(document)


def test_unknown_members_are_refused() -> None:
    with pytest.raises(BadRequestData, match="unknown subscription member"):
        parse({**subscription(URL), "colour": "red"})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
members = st.sampled_from(
    [
        "entities",
        "watchedAttributes",
        "q",
        "geoQ",
        "notification",
        "throttling",
        "timeInterval",
        "expiresAt",
        "isActive",
        "subscriptionName",
        "notificationTrigger",
        "id",
    ]
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(members, json_values, max_size=4))
def test_arbitrary_bodies_are_accepted_or_refused_with_bad_request_data(
    changes: dict[str, Any],
) -> None:
    with contextlib.suppress(BadRequestData):
        parse({**subscription(URL), **changes})


def test_crud_errors(actions: SubscriptionActions) -> None:
    created = actions.create("", {**subscription(URL), "id": "urn:ngsi-ld:Subscription:s1"})
    assert created.id == "urn:ngsi-ld:Subscription:s1"
    with pytest.raises(AlreadyExists):
        actions.create("", {**subscription(URL), "id": "urn:ngsi-ld:Subscription:s1"})
    # Another tenant has its own namespace of ids.
    actions.create("other", {**subscription(URL), "id": "urn:ngsi-ld:Subscription:s1"})
    with pytest.raises(ResourceNotFound):
        actions.retrieve("", "urn:ngsi-ld:Subscription:missing")
    with pytest.raises(ResourceNotFound):
        actions.update("", "urn:ngsi-ld:Subscription:missing", {"isActive": False})
    with pytest.raises(ResourceNotFound):
        actions.delete("", "urn:ngsi-ld:Subscription:missing")
    with pytest.raises(BadRequestData):
        actions.update("", created.id, {"id": "urn:ngsi-ld:Subscription:s2"})
    with pytest.raises(BadRequestData):
        actions.update("", created.id, {"throttling": 0})


def test_patch_merges_members_and_keeps_the_rest(actions: SubscriptionActions) -> None:
    created = actions.create("", subscription(URL, subscriptionName="air", throttling=5))
    updated = actions.update("", created.id, {"throttling": None, "description": "NO2 alerts"})
    assert updated.name == "air"
    assert updated.throttling is None
    assert updated.description == "NO2 alerts"
    assert updated.created_at == created.created_at
    assert actions.retrieve("", created.id) == updated


def test_listing_pages_and_counts(actions: SubscriptionActions) -> None:
    for number in range(3):
        actions.create("", {**subscription(URL), "id": f"urn:ngsi-ld:Subscription:{number}"})
    page, total = actions.query("", limit=2, offset=1)
    assert total == 3
    assert [s.id for s in page] == ["urn:ngsi-ld:Subscription:1", "urn:ngsi-ld:Subscription:2"]
    with pytest.raises(BadRequestData):
        actions.query("", limit=-1, offset=0)


def test_lang_is_kept_and_notifications_render_language_properties_in_it() -> None:
    from smartcity.kernel.context.subscriptions.rendering import build_notification

    parsed = parse(subscription(URL, lang="en,zh;q=0.5", notification={"format": "keyValues"}))
    assert subscription_document(parsed, NOW)["lang"] == "en,zh;q=0.5"
    name = "https://uri.etsi.org/ngsi-ld/default-context/name"
    entity = {
        "id": "urn:ngsi-ld:Park:1",
        "type": ["https://uri.etsi.org/ngsi-ld/default-context/Park"],
        name: [{"type": "LanguageProperty", "languageMap": {"zh": "公园", "en": "Park"}}],
    }
    notification = build_notification(parsed, [entity], NOW)
    assert notification["data"][0]["name"] == "Park"


@pytest.mark.parametrize("lang", ["en;q=2", "no tag", 5])
def test_a_malformed_lang_is_bad_request(lang: Any) -> None:
    with pytest.raises(BadRequestData):
        parse(subscription(URL, lang=lang))
