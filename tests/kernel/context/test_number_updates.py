"""Live number updates stay cheap on PostgreSQL, and ``q`` still finds numbers.

PostgreSQL updates a row in place (a HOT update, no new index entries) only when no
indexed column changes, a column named in an index's condition included. Every live
update changes ``value_number``, so no PostgreSQL index may name it; ``q`` finds an
attribute's number rows by ``value_class`` (decision 0015, second addendum).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from smartcity.kernel.bus import open_bus
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.query.selection import build_selection
from smartcity.kernel.context.tables import (
    VALUE_CLASS_NONE,
    VALUE_CLASS_NUMBER,
    VALUE_CLASS_TEXT,
    context_attribute,
)
from smartcity.kernel.storage import Store

VOCABULARY = "https://smartcity.example/test/"
SENSOR = VOCABULARY + "Sensor"
READING = VOCABULARY + "reading"


def sensor(number: int, reading: Any) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Sensor:{number}",
        "type": [SENSOR],
        READING: [{"type": "Property", "value": reading}],
    }


def found(library: ContextLibrary, q: str) -> list[str]:
    selection = build_selection(
        "t", expand=lambda term: VOCABULARY + term, type_param="Sensor", q_text=q
    )
    return [entity["id"] for entity in library.query_entities(selection, limit=100).entities]


def test_value_class_names_the_typed_copy_holding_the_value(
    store: Store, clock: FixedClock
) -> None:
    library = ContextLibrary(store, open_bus("local"), clock)
    library.upsert_entities("t", [sensor(1, 21.5), sensor(2, "high"), sensor(3, [1, 2])], "replace")
    with store.connect() as conn:
        classes = dict(
            conn.execute(
                select(context_attribute.c.entity_id, context_attribute.c.value_class).where(
                    context_attribute.c.name == READING
                )
            ).all()
        )
    assert classes == {
        "urn:ngsi-ld:Sensor:1": VALUE_CLASS_NUMBER,
        "urn:ngsi-ld:Sensor:2": VALUE_CLASS_TEXT,
        "urn:ngsi-ld:Sensor:3": VALUE_CLASS_NONE,
    }


def test_q_follows_a_value_from_number_to_text_and_back(store: Store, clock: FixedClock) -> None:
    library = ContextLibrary(store, open_bus("local"), clock)
    library.upsert_entities("t", [sensor(1, 30), sensor(2, 10)], "replace")
    assert found(library, "reading>20") == ["urn:ngsi-ld:Sensor:1"]

    library.upsert_entities("t", [sensor(1, "broken")], "update")
    assert found(library, "reading>20") == []
    assert found(library, 'reading=="broken"') == ["urn:ngsi-ld:Sensor:1"]

    library.upsert_entities("t", [sensor(1, 25.5), sensor(2, 40)], "update")
    assert found(library, "reading>20") == ["urn:ngsi-ld:Sensor:1", "urn:ngsi-ld:Sensor:2"]
    assert found(library, "reading<30") == ["urn:ngsi-ld:Sensor:1"]
    assert found(library, "reading!=40") == ["urn:ngsi-ld:Sensor:1"]


def test_no_postgresql_index_names_the_live_number(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SQLite updates only the indexes of the columns an UPDATE sets")
    with store.connect() as conn:
        definitions = conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes"
                " WHERE tablename = 'context_attribute' AND schemaname = current_schema()"
            )
        ).all()
    assert definitions
    assert [name for name, definition in definitions if "value_number" in definition] == []


def test_postgresql_attribute_pages_keep_room_for_every_row_s_next_version(store: Store) -> None:
    """A batch rewrites every row of its entities' pages at once; at fillfactor 50 each
    row's next version fits beside it, so the update stays HOT (migration 0025)."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite has no fillfactor")
    with store.connect() as conn:
        options = conn.execute(
            text("SELECT reloptions FROM pg_class WHERE oid = 'context_attribute'::regclass")
        ).scalar_one()
    assert "fillfactor=50" in options
