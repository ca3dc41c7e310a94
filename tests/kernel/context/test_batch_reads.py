"""The batch write path's read: the same entities as the general read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from smartcity.kernel.bus import open_bus
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.batch_reads import load_batch
from smartcity.kernel.context.changes import Changes
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.model import instance_key
from smartcity.kernel.context.reads import load_entities
from smartcity.kernel.context.tables import context_attribute
from smartcity.kernel.storage import Store

VOCABULARY = "https://smartcity.example/test/"


def sensor(number: int, value: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Sensor:{number}",
        "type": [VOCABULARY + "Sensor", VOCABULARY + "Device"],
        VOCABULARY + "reading": [
            {"type": "Property", "value": value, "observedAt": "2026-11-21T09:00:00.000Z"},
            {"type": "Property", "value": 2, "datasetId": "urn:ngsi-ld:Dataset:b"},
        ],
        VOCABULARY + "label": [{"type": "Property", "value": "north gate"}],
        VOCABULARY + "open": [{"type": "Property", "value": True}],
        VOCABULARY + "feeds": [{"type": "Relationship", "object": "urn:ngsi-ld:Pump:1"}],
        **extra,
    }


@pytest.fixture
def library(store: Store, clock: FixedClock) -> ContextLibrary:
    return ContextLibrary(store, open_bus("local"), clock)


def test_the_batch_read_equals_the_general_read(store: Store, library: ContextLibrary) -> None:
    library.create_entities("t", [sensor(n, n * 1.5) for n in range(3)])
    library.create_entities("other", [sensor(0, 9)])
    ids = ["urn:ngsi-ld:Sensor:2", "urn:ngsi-ld:Sensor:0", "urn:ngsi-ld:Sensor:9"]
    with store.begin() as conn:
        assert load_batch(conn, "t", ids) == load_entities(conn, "t", ids)
        assert sorted(load_batch(conn, "t", ids)) == ids[1::-1]


def test_a_batch_update_keeps_created_at_and_returns_whole_entities(
    store: Store, library: ContextLibrary, clock: FixedClock
) -> None:
    library.create_entities("t", [sensor(1, 4)])
    entity_id = "urn:ngsi-ld:Sensor:1"
    with store.begin() as conn:
        before = load_entities(conn, "t", [entity_id])[entity_id]
    clock.advance(timedelta(seconds=60))
    update = {
        "id": entity_id,
        "type": [VOCABULARY + "Sensor"],
        VOCABULARY + "reading": [{"type": "Property", "value": 5}],
        VOCABULARY + "label": [{"type": "Property", "value": "south gate"}],
        VOCABULARY + "open": [{"type": "Property", "value": False}],
    }
    result = library.upsert_entities("t", [update], "update")
    assert result.success == [entity_id]
    with store.begin() as conn:
        after = load_entities(conn, "t", [entity_id])[entity_id]
    reading = after[VOCABULARY + "reading"]
    assert [instance_key(i) for i in reading] == ["", "urn:ngsi-ld:Dataset:b"]
    assert reading[0]["value"] == 5
    assert reading[0]["createdAt"] == before[VOCABULARY + "reading"][0]["createdAt"]
    assert reading[0]["modifiedAt"] != reading[0]["createdAt"]
    assert reading[1] == before[VOCABULARY + "reading"][1]
    assert after[VOCABULARY + "label"][0]["value"] == "south gate"
    assert after[VOCABULARY + "open"][0]["value"] is False
    assert after[VOCABULARY + "feeds"] == before[VOCABULARY + "feeds"]


def test_a_narrow_update_of_a_vanished_row_asks_for_a_retry(
    store: Store, library: ContextLibrary, clock: FixedClock
) -> None:
    """Rows read, then deleted by another transaction, are not silently left unwritten."""
    library.create_entities("t", [sensor(1, 4)])
    entity_id = "urn:ngsi-ld:Sensor:1"
    reading = VOCABULARY + "reading"
    with store.begin() as conn:
        existing = load_batch(conn, "t", [entity_id])[entity_id]
        changes = Changes("t", clock.now())
        changes.narrow_updates = True
        changes.merge(existing, {reading: [{"type": "Property", "value": 7}]})
        conn.execute(
            delete(context_attribute).where(
                context_attribute.c.tenant == "t",
                context_attribute.c.name == reading,
                context_attribute.c.dataset_id == "",
            )
        )
        # IntegrityError is what the write path retries on fresh data.
        with pytest.raises(IntegrityError):
            changes.apply(conn, store)


@pytest.mark.parametrize("count", [1, 3])
def test_batch_updates_of_one_or_a_few_rows_are_written(
    store: Store, library: ContextLibrary, count: int
) -> None:
    library.create_entities("t", [sensor(n, 4) for n in range(count)])
    update = [
        {
            "id": f"urn:ngsi-ld:Sensor:{n}",
            "type": [VOCABULARY + "Sensor"],
            VOCABULARY + "label": [{"type": "Property", "value": "east gate"}],
            VOCABULARY + "reading": [{"type": "Property", "value": 10 + n}],
        }
        for n in range(count)
    ]
    assert len(library.upsert_entities("t", update[:1], "update").success) == 1
    assert len(library.upsert_entities("t", update, "update").success) == count
    ids = [f"urn:ngsi-ld:Sensor:{n}" for n in range(count)]
    with store.begin() as conn:
        stored = load_entities(conn, "t", ids)
    for n, entity_id in enumerate(ids):
        assert stored[entity_id][VOCABULARY + "label"][0]["value"] == "east gate"
        assert stored[entity_id][VOCABULARY + "reading"][0]["value"] == 10 + n
