"""The notifier delivers matching changes over HTTP, in the subscriber's format."""

from __future__ import annotations

import asyncio
import dataclasses
import threading

import pytest

from smartcity.kernel.context.subscriptions import Notifier
from smartcity.kernel.storage import Store
from tests.kernel.context.subscriptions.conftest import FAST, Running, subscription
from tests.kernel.context.subscriptions.receiver import Receiver
from tests.network import free_port

pytestmark = pytest.mark.anyio


async def test_a_change_reaches_the_receiver_with_body_and_headers(running: Running) -> None:
    with Receiver() as receiver:
        created = running.actions.create(
            "",
            subscription(
                receiver.url,
                notification={"endpoint": {"receiverInfo": [{"key": "X-Auth", "value": "k1"}]}},
            ),
        )
        running.change(attributes={"NO2": 22.0})
        await running.notifier.drain()
        [received] = receiver.received
    assert received.headers["content-type"] == "application/json"
    assert received.headers["x-auth"] == "k1"
    assert "json-ld#context" in received.headers["link"]
    body = received.body
    assert body["id"].startswith("urn:ngsi-ld:Notification:")
    assert body["type"] == "Notification"
    assert body["subscriptionId"] == created.id
    assert body["notifiedAt"] == "2026-11-21T09:00:00.000Z"
    assert body["data"] == [
        {
            "id": "urn:ngsi-ld:AirQualityObserved:1",
            "type": "AirQualityObserved",
            "NO2": {"type": "Property", "value": 22.0},
        }
    ]


async def test_json_ld_notifications_carry_their_context_in_the_body(running: Running) -> None:
    with Receiver() as receiver:
        running.actions.create(
            "",
            subscription(
                receiver.url, notification={"endpoint": {"accept": "application/ld+json"}}
            ),
            {"NO2": "https://example.org/air#NO2"},
        )
        running.change(attributes={"https://example.org/air#NO2": 22.0})
        await running.notifier.drain()
        [received] = receiver.received
    assert received.headers["content-type"] == "application/ld+json"
    assert "link" not in received.headers
    assert received.body["@context"] == {"NO2": "https://example.org/air#NO2"}
    # The user context names the attribute's IRI, so it is compacted back to its term.
    assert received.body["data"][0]["NO2"] == {"type": "Property", "value": 22.0}


async def test_key_values_format_and_selected_attributes(running: Running) -> None:
    with Receiver() as receiver:
        running.actions.create(
            "",
            subscription(receiver.url, notification={"format": "keyValues", "attributes": ["NO2"]}),
        )
        running.change(attributes={"NO2": 22.0, "PM10": 40})
        await running.notifier.drain()
        [received] = receiver.received
    assert received.body["data"] == [
        {"id": "urn:ngsi-ld:AirQualityObserved:1", "type": "AirQualityObserved", "NO2": 22.0}
    ]


async def test_concise_format_drops_implied_types(running: Running) -> None:
    with Receiver() as receiver:
        running.actions.create("", subscription(receiver.url, notification={"format": "concise"}))
        running.change(attributes={"NO2": 22.0})
        await running.notifier.drain()
        [received] = receiver.received
    assert received.body["data"][0]["NO2"] == 22.0


async def test_watched_attributes_filter_changes(running: Running) -> None:
    with Receiver() as receiver:
        running.actions.create("", subscription(receiver.url, watchedAttributes=["NO2"]))
        running.change(attributes={"NO2": 1, "PM10": 2}, changed=("PM10",))
        await running.notifier.drain()
        assert receiver.count() == 0
        running.change(attributes={"NO2": 3, "PM10": 2}, changed=("NO2",))
        await running.notifier.drain()
        assert [r.body["data"][0]["NO2"]["value"] for r in receiver.received] == [3]


async def test_entity_selectors_and_tenants(running: Running) -> None:
    with Receiver() as receiver:
        running.actions.create(
            "district-a",
            subscription(
                receiver.url,
                entities=[
                    {
                        "type": "AirQualityObserved",
                        "idPattern": "urn:ngsi-ld:AirQualityObserved:a.*",
                    },
                    {"type": "ParkingSpot", "id": "urn:ngsi-ld:ParkingSpot:7"},
                ],
            ),
        )
        running.change("urn:ngsi-ld:AirQualityObserved:a1", tenant="district-a")
        running.change("urn:ngsi-ld:AirQualityObserved:b1", tenant="district-a")
        running.change("urn:ngsi-ld:AirQualityObserved:a2", tenant="")
        running.change("urn:ngsi-ld:ParkingSpot:7", kind="ParkingSpot", tenant="district-a")
        running.change("urn:ngsi-ld:ParkingSpot:8", kind="ParkingSpot", tenant="district-a")
        await running.notifier.drain()
        # Different entities may take different lanes, so only the set is certain.
        ids = sorted(r.body["data"][0]["id"] for r in receiver.received)
    assert ids == ["urn:ngsi-ld:AirQualityObserved:a1", "urn:ngsi-ld:ParkingSpot:7"]


async def test_triggers_decide_about_deletions(running: Running) -> None:
    with Receiver() as receiver:
        running.actions.create("", subscription(receiver.url))
        running.actions.create(
            "", subscription(receiver.url, notificationTrigger=["entityDeleted"])
        )
        running.change(operation="delete")
        await running.notifier.drain()
        assert receiver.count() == 1


async def test_throttling_skips_notifications_until_the_period_passed(running: Running) -> None:
    with Receiver() as receiver:
        running.actions.create("", subscription(receiver.url, throttling=60))
        running.change(attributes={"NO2": 1})
        running.change(attributes={"NO2": 2})
        await running.notifier.drain()
        assert receiver.count() == 1
        running.advance(61)
        running.change(attributes={"NO2": 3})
        await running.notifier.drain()
        values = [r.body["data"][0]["NO2"]["value"] for r in receiver.received]
    assert values == [1, 3]


async def test_expired_subscriptions_stop_notifying(running: Running) -> None:
    with Receiver() as receiver:
        created = running.actions.create(
            "", subscription(receiver.url, expiresAt="2026-11-21T09:00:10Z")
        )
        running.change()
        await running.notifier.drain()
        running.advance(11)
        running.change()
        await running.notifier.drain()
        assert receiver.count() == 1
    stored = running.actions.retrieve("", created.id)
    assert stored.state(running.clock.now()) == "expired"


async def test_paused_updated_and_deleted_subscriptions(running: Running) -> None:
    with Receiver() as receiver:
        created = running.actions.create("", subscription(receiver.url))
        running.actions.update("", created.id, {"isActive": False})
        running.change()
        await running.notifier.drain()
        assert receiver.count() == 0
        running.actions.update(
            "",
            created.id,
            {
                "isActive": True,
                "notification": {"endpoint": {"uri": receiver.url}, "format": "keyValues"},
            },
        )
        running.change(attributes={"NO2": 5})
        await running.notifier.drain()
        assert receiver.received[-1].body["data"][0]["NO2"] == 5
        running.actions.delete("", created.id)
        running.change()
        await running.notifier.drain()
        assert receiver.count() == 1


async def test_a_dead_endpoint_fails_while_a_live_one_gets_everything(running: Running) -> None:
    dead = f"http://127.0.0.1:{free_port()}/notify"
    with Receiver() as receiver:
        failing = running.actions.create("", subscription(dead))
        working = running.actions.create("", subscription(receiver.url))
        for value in range(5):
            running.change(attributes={"NO2": value})
        await running.notifier.drain()
        values = [r.body["data"][0]["NO2"]["value"] for r in receiver.received]
    assert values == [0, 1, 2, 3, 4]
    failed = running.actions.retrieve("", failing.id).status
    assert (failed.times_sent, failed.times_failed) == (5, 5)
    assert failed.last_failure is not None and failed.last_success is None
    succeeded = running.actions.retrieve("", working.id).status
    assert (succeeded.times_sent, succeeded.times_failed) == (5, 0)
    assert succeeded.last_success == succeeded.last_notification is not None
    assert succeeded.last_failure is None
    # Only the first notification is retried; then the endpoint is known to fail and each
    # further one is tried once, so a dead endpoint's backlog cannot pile up.
    assert running.notifier.stats.retried == FAST.max_attempts - 1


async def test_a_slow_endpoint_does_not_delay_the_others(running: Running) -> None:
    release = threading.Event()
    with Receiver(hold=release) as slow, Receiver() as live:
        running.actions.create("", subscription(slow.url))
        running.actions.create("", subscription(live.url))
        for value in range(3):
            running.change(attributes={"NO2": value})
        # Every live notification arrives while the slow endpoint still holds its first.
        await live.wait_async(3)
        assert slow.count() == 0
        release.set()
        await running.notifier.drain()
        assert slow.count() == 3


async def test_an_error_status_counts_as_a_failure(running: Running) -> None:
    with Receiver(status=500) as receiver:
        created = running.actions.create("", subscription(receiver.url))
        running.change()
        await running.notifier.drain()
        assert receiver.count() == FAST.max_attempts
    status = running.actions.retrieve("", created.id).status
    assert (status.times_sent, status.times_failed) == (1, 1)


async def test_a_failing_endpoint_is_probed_and_recovers(running: Running) -> None:
    with Receiver(status=500) as receiver:
        created = running.actions.create("", subscription(receiver.url))
        running.change(attributes={"NO2": 1})
        await running.notifier.drain()
        assert receiver.count() == FAST.max_attempts
        receiver.status = 204
        running.change(attributes={"NO2": 2})
        await running.notifier.drain()
        # One probe, no retries: it succeeded, and the endpoint counts as live again.
        assert receiver.count() == FAST.max_attempts + 1
    status = running.actions.retrieve("", created.id).status
    assert (status.times_sent, status.times_failed) == (2, 1)
    assert status.last_success is not None


async def test_a_failing_endpoint_is_not_tried_again_before_its_probe_time(
    running: Running,
) -> None:
    running.notifier.settings = dataclasses.replace(FAST, failing_probe_interval=3600)
    with Receiver(status=500) as receiver:
        created = running.actions.create("", subscription(receiver.url))
        for value in range(4):
            running.change(attributes={"NO2": value})
        await running.notifier.drain()
        assert receiver.count() == FAST.max_attempts
    status = running.actions.retrieve("", created.id).status
    assert (status.times_sent, status.times_failed) == (4, 4)


async def test_a_full_queue_drops_the_oldest_notification(running: Running) -> None:
    release = threading.Event()
    running.notifier.settings = dataclasses.replace(FAST, queue_size=1)
    with Receiver(hold=release) as slow:
        created = running.actions.create("", subscription(slow.url))
        for value in range(4):
            running.change(attributes={"NO2": value})
        await running.bus.drain()
        release.set()
        await running.notifier.drain()
        delivered = [r.body["data"][0]["NO2"]["value"] for r in slow.received]
    dropped = running.notifier.stats.dropped
    assert dropped >= 1
    assert len(delivered) == 4 - dropped
    assert delivered[-1] == 3
    status = running.actions.retrieve("", created.id).status
    assert (status.times_sent, status.times_failed) == (4, dropped)


async def test_subscriptions_stored_before_start_are_loaded(store: Store, running: Running) -> None:
    with Receiver() as receiver:
        running.actions.create("", subscription(receiver.url))
        other = Notifier(store, running.bus, running.clock, FAST)
        await other.start()
        try:
            assert [s.notification.endpoint.uri for s in other.subscriptions("")] == [receiver.url]
        finally:
            await other.stop()


async def test_q_and_geo_q_filter_changes(running: Running) -> None:
    with Receiver() as receiver:
        running.actions.create(
            "",
            subscription(
                receiver.url,
                q="NO2>40",
                geoQ={
                    "geometry": "Point",
                    "coordinates": [113.26, 23.13],
                    "georel": "near;maxDistance==1000",
                },
            ),
        )
        near = {"type": "Point", "coordinates": [113.261, 23.131]}
        far = {"type": "Point", "coordinates": [113.5, 23.5]}
        location = "https://uri.etsi.org/ngsi-ld/location"
        for entity_id, no2, where in [("a", 50, near), ("b", 30, near), ("c", 50, far)]:
            # Without a location no geo-query holds, whatever NO2 is.
            running.change(f"urn:ngsi-ld:AirQualityObserved:{entity_id}", {"NO2": no2})
            running.change(
                f"urn:ngsi-ld:AirQualityObserved:{entity_id}-located",
                {"NO2": no2, location: where},
            )
        await running.notifier.drain()
        ids = [r.body["data"][0]["id"] for r in receiver.received]
    assert ids == ["urn:ngsi-ld:AirQualityObserved:a-located"]


async def test_shutdown_delivers_queued_notifications_within_its_grace(running: Running) -> None:
    release = threading.Event()
    with Receiver(hold=release) as slow:
        running.actions.create("", subscription(slow.url))
        running.change(attributes={"NO2": 1})
        running.change(attributes={"NO2": 2})
        threading.Timer(0.3, release.set).start()
        await running.notifier.stop(grace=10.0)
        assert slow.count() == 2


async def test_shutdown_grace_is_bounded_by_a_dead_endpoint(running: Running) -> None:
    release = threading.Event()
    with Receiver(hold=release) as stuck:
        running.actions.create("", subscription(stuck.url))
        running.change()
        started = asyncio.get_running_loop().time()
        await running.notifier.stop(grace=0.3)
        assert asyncio.get_running_loop().time() - started < 5
        release.set()


async def test_changes_in_a_tenant_without_subscriptions_are_not_queued(running: Running) -> None:
    with Receiver() as receiver:
        running.actions.create("district-a", subscription(receiver.url))
        await running.notifier.drain()
        delivered = running.bus.stats().delivered
        running.change(tenant="")  # nobody subscribes in the default tenant
        running.change("urn:ngsi-ld:AirQualityObserved:7", tenant="district-a")
        await running.notifier.drain()
        assert running.bus.stats().delivered - delivered == 1
        [received] = receiver.received
    assert received.body["data"][0]["id"] == "urn:ngsi-ld:AirQualityObserved:7"


async def test_a_change_routed_right_after_a_new_subscription_notifies_it(
    running: Running,
) -> None:
    # The subscription's change is routed and not yet applied when the entity change
    # is routed: the entity change must still reach the handler (it runs in order).
    with Receiver() as receiver:
        created = running.actions.create("district-b", subscription(receiver.url))
        await asyncio.sleep(0)
        running.change(tenant="district-b")
        await running.notifier.drain()
        [received] = receiver.received
    assert received.body["subscriptionId"] == created.id
