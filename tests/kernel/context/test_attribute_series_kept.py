"""The series id a SQLite batch keeps on an attribute row (migration 0027): the next
batches record their history in the right series, whatever changed the row meanwhile."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import inspect, select

from smartcity.kernel.bus import open_bus
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.tables import context_attribute, context_instance, context_series
from smartcity.kernel.storage import Store

VOCABULARY = "https://smartcity.example/test/"
SENSOR = VOCABULARY + "Sensor"
GAUGE = VOCABULARY + "Gauge"
READING = VOCABULARY + "reading"
LEVEL = VOCABULARY + "level"


@pytest.fixture
def library(store: Store, clock: FixedClock) -> ContextLibrary:
    return ContextLibrary(store, open_bus("local"), clock)


def batch(first: int, entity_type: str = SENSOR, count: int = 3) -> list[dict[str, Any]]:
    """Sensors 0 .. count - 1 with the readings first, first + 1, ... and a level."""
    return [
        {
            "id": f"urn:ngsi-ld:Sensor:{n}",
            "type": [entity_type],
            READING: [{"type": "Property", "value": first + n}],
            LEVEL: [{"type": "Property", "value": 2 * (first + n)}],
        }
        for n in range(count)
    ]


def series_of_rows(store: Store) -> dict[tuple[str, str], tuple[int | None, int]]:
    """Per attribute row (entity id, name): the series id it keeps, and the id of the
    series its key names."""
    a, s = context_attribute, context_series
    statement = select(a.c.entity_id, a.c.name, a.c.series_id, s.c.id).join(
        s,
        (s.c.tenant == a.c.tenant)
        & (s.c.entity_id == a.c.entity_id)
        & (s.c.name == a.c.name)
        & (s.c.dataset_id == a.c.dataset_id)
        & (s.c.entity_type == a.c.entity_type),
    )
    with store.begin() as conn:
        return {(e, n): (kept, found) for e, n, kept, found in conn.execute(statement)}


def recorded(store: Store, since: int = 0) -> list[tuple[str, str, str, float | None]]:
    """History rows after the first ``since``: their series' entity, name and entity
    type, and their number."""
    i, s = context_instance, context_series
    statement = (
        select(s.c.entity_id, s.c.name, s.c.entity_type, i.c.value_number)
        .join(s, s.c.id == i.c.series_id)
        .order_by(i.c.seq)
    )
    with store.begin() as conn:
        return [tuple(row) for row in conn.execute(statement)][since:]  # type: ignore[misc]


def test_the_migrations_add_a_nullable_series_id_to_attribute_rows(store: Store) -> None:
    with store.begin() as conn:
        columns = {c["name"]: c for c in inspect(conn).get_columns("context_attribute")}
    assert columns["series_id"]["nullable"]


def test_a_batch_keeps_each_rows_series_and_the_next_batch_records_in_it(
    store: Store, library: ContextLibrary, clock: FixedClock
) -> None:
    library.create_entities("t", batch(0))
    for first in (10, 20, 30):
        clock.advance(timedelta(minutes=1))
        before = len(recorded(store))
        assert not library.upsert_entities("t", batch(first), "update").errors
        assert sorted(recorded(store, before)) == sorted(
            [(f"urn:ngsi-ld:Sensor:{n}", READING, SENSOR, float(first + n)) for n in range(3)]
            + [(f"urn:ngsi-ld:Sensor:{n}", LEVEL, SENSOR, float(2 * (first + n))) for n in range(3)]
        )
    rows = series_of_rows(store)
    assert len(rows) == 6
    if store.dialect == "sqlite":
        # Kept by the first batch, read by the others: each row names its own series.
        assert all(kept == found for kept, found in rows.values())
    with store.begin() as conn:
        numbers = dict(
            conn.execute(
                select(context_attribute.c.entity_id, context_attribute.c.value_number).where(
                    context_attribute.c.name == READING
                )
            ).all()
        )
    assert numbers == {f"urn:ngsi-ld:Sensor:{n}": float(30 + n) for n in range(3)}


def test_a_row_written_otherwise_forgets_its_series_and_a_new_type_gets_its_own(
    store: Store, library: ContextLibrary, clock: FixedClock
) -> None:
    """A replace gives the entity another primary type (so its attribute rows another
    series); a PATCH upserts a row. The batches after them record in the series of the
    rows' current key, never in one a row kept before."""
    library.create_entities("t", batch(0))
    clock.advance(timedelta(minutes=1))
    library.upsert_entities("t", batch(10), "update")
    # Another primary type: the next batch's history goes to the Gauge series.
    clock.advance(timedelta(minutes=1))
    library.upsert_entities("t", batch(20, GAUGE), "replace")
    assert all(kept is None for kept, _found in series_of_rows(store).values())
    clock.advance(timedelta(minutes=1))
    before = len(recorded(store))
    assert not library.upsert_entities("t", batch(30, GAUGE), "update").errors
    assert {(entity_type, value) for _e, name, entity_type, value in recorded(store, before)} >= {
        (GAUGE, 30.0),
        (GAUGE, 60.0),
    }
    assert {entity_type for _e, _n, entity_type, _v in recorded(store, before)} == {GAUGE}
    # A PATCH of one row upserts it: the row forgets the id it kept.
    clock.advance(timedelta(minutes=1))
    library.patch_attribute("t", "urn:ngsi-ld:Sensor:1", READING, {"type": "Property", "value": 99})
    clock.advance(timedelta(minutes=1))
    before = len(recorded(store))
    assert not library.upsert_entities("t", batch(40, GAUGE), "update").errors
    assert sorted(recorded(store, before)) == sorted(
        [(f"urn:ngsi-ld:Sensor:{n}", READING, GAUGE, float(40 + n)) for n in range(3)]
        + [(f"urn:ngsi-ld:Sensor:{n}", LEVEL, GAUGE, float(2 * (40 + n))) for n in range(3)]
    )
    if store.dialect == "sqlite":
        assert all(kept == found for kept, found in series_of_rows(store).values())
