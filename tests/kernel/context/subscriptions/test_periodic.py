"""Periodic subscriptions notify the entities they select now, every timeInterval."""

from __future__ import annotations

import dataclasses

import pytest

from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.storage import Store
from tests.kernel.context.subscriptions.conftest import VOCABULARY, Running, subscription
from tests.kernel.context.subscriptions.receiver import Receiver

pytestmark = pytest.mark.anyio


def store_entity(store: Store, running: Running, entity_id: str, kind: str, no2: float) -> None:
    """Create an entity through the library (expanded names, as the API hands it over)."""
    library = ContextLibrary(store, running.bus, running.clock)
    library.create_entity(
        "",
        {
            "id": entity_id,
            "type": [VOCABULARY + kind],
            VOCABULARY + "NO2": [{"type": "Property", "value": no2}],
        },
    )


async def test_periodic_notifications_carry_the_current_entities(
    store: Store, running: Running
) -> None:
    store_entity(store, running, "urn:ngsi-ld:AirQualityObserved:1", "AirQualityObserved", 12.0)
    store_entity(store, running, "urn:ngsi-ld:ParkingSpot:1", "ParkingSpot", 0.0)
    with Receiver() as receiver:
        created = running.actions.create(
            "", subscription(receiver.url, timeInterval=0.05, notification={"format": "keyValues"})
        )
        received = await receiver.wait_async(2)
        running.actions.delete("", created.id)
        await running.notifier.drain()
    for notification in received[:2]:
        assert notification.body["subscriptionId"] == created.id
        assert notification.body["data"] == [
            {"id": "urn:ngsi-ld:AirQualityObserved:1", "type": "AirQualityObserved", "NO2": 12.0}
        ]


async def test_changes_do_not_trigger_periodic_subscriptions(
    store: Store, running: Running
) -> None:
    with Receiver() as receiver:
        running.actions.create("", subscription(receiver.url, timeInterval=3600))
        running.change()
        await running.notifier.drain()
        # No entity is stored, so the first periodic round had nothing to send either.
        assert receiver.count() == 0


async def test_periodic_notifications_apply_q(store: Store, running: Running) -> None:
    store_entity(store, running, "urn:ngsi-ld:AirQualityObserved:low", "AirQualityObserved", 12.0)
    store_entity(store, running, "urn:ngsi-ld:AirQualityObserved:high", "AirQualityObserved", 45.0)
    with Receiver() as receiver:
        created = running.actions.create(
            "",
            subscription(
                receiver.url, timeInterval=3600, q="NO2>40", notification={"format": "keyValues"}
            ),
        )
        [received] = await receiver.wait_async(1)
        running.actions.delete("", created.id)
        await running.notifier.drain()
    assert [entity["id"] for entity in received.body["data"]] == [
        "urn:ngsi-ld:AirQualityObserved:high"
    ]


async def test_a_large_selection_is_sent_whole_one_page_per_notification(
    store: Store, running: Running
) -> None:
    running.notifier.settings = dataclasses.replace(running.notifier.settings, periodic_limit=2)
    for number in range(5):
        store_entity(
            store, running, f"urn:ngsi-ld:AirQualityObserved:{number}", "AirQualityObserved", 1.0
        )
    with Receiver() as receiver:
        created = running.actions.create(
            "", subscription(receiver.url, timeInterval=3600, notification={"format": "keyValues"})
        )
        received = await receiver.wait_async(3)
        running.actions.delete("", created.id)
        await running.notifier.drain()
    assert sorted(len(notification.body["data"]) for notification in received) == [1, 2, 2]
    sent = [entity["id"] for notification in received for entity in notification.body["data"]]
    assert sorted(sent) == [f"urn:ngsi-ld:AirQualityObserved:{number}" for number in range(5)]
