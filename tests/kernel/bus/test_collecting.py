"""The worker processes' bus: it keeps what is published and delivers nothing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from smartcity.kernel.bus import Event
from smartcity.kernel.bus.collecting import CollectingBus


@dataclass(frozen=True)
class Pinged(Event):
    topic: ClassVar[str] = "test.pinged"
    n: int


def test_published_events_are_kept_in_order_and_taken_once() -> None:
    bus = CollectingBus()
    bus.publish(Pinged(1))
    bus.publish(Pinged(2))

    assert bus.take() == [Pinged(1), Pinged(2)]
    assert bus.take() == []


def test_a_subscriber_is_accepted_but_never_called() -> None:
    bus = CollectingBus()
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    subscription = bus.subscribe("test.*", handler, name="watcher")

    async def publish_and_drain() -> None:
        await bus.start()
        bus.publish(Pinged(1))
        await bus.drain()
        await bus.stop()

    asyncio.run(publish_and_drain())
    assert subscription.name == "watcher"
    subscription.cancel()
    assert seen == []
    assert bus.take() == [Pinged(1)]
