"""Single-entity writes of many entities at once, interleaved.

A subscriber sees each entity's changes in the order its writes were queued, and the
last write's value is the one stored.
"""

from __future__ import annotations

import asyncio
from typing import Any

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.events import EntityChanged
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.storage import Store
from tests.kernel.context.test_entities_library import TEMPERATURE, RecordingBus, station
from tests.kernel.context.test_entity_group import STATION, fragment, history

ENTITIES = 6
WRITES = 25


def test_each_entitys_writes_commit_and_publish_in_queue_order(
    store: Store, clock: FixedClock
) -> None:
    bus = RecordingBus()
    library = ContextLibrary(store, bus, clock)  # type: ignore[arg-type]
    for number in range(ENTITIES):
        library.create_entity("", station(number))
    bus.events.clear()

    async def main() -> list[Any]:
        # Interleaved: every entity's writes are queued in value order, all at once.
        calls = [
            library.patch_attribute_async(
                "", STATION.format(number), TEMPERATURE, fragment(100 * number + n)
            )
            for n in range(WRITES)
            for number in range(ENTITIES)
        ]
        return list(await asyncio.gather(*calls))

    assert asyncio.run(main()) == [None] * (WRITES * ENTITIES)
    changed = [e for e in bus.events if isinstance(e, EntityChanged)]
    for number in range(ENTITIES):
        expected = [100 * number + n for n in range(WRITES)]
        seen = [
            e.entity[TEMPERATURE][0]["value"]
            for e in changed
            if e.entity_id == STATION.format(number)
        ]
        assert seen == expected
        assert history(store, STATION.format(number)) == [21.5, *expected]
        stored = library.retrieve_entity("", STATION.format(number))[TEMPERATURE][0]["value"]
        assert stored == expected[-1]
