"""Batch values replaced in place: stored values, history rows and their series."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from smartcity.kernel.bus import open_bus
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context import entities as entities_module
from smartcity.kernel.context.batch_reads import load_batch
from smartcity.kernel.context.changes import Changes
from smartcity.kernel.context.entities import stored_entities
from smartcity.kernel.context.errors import ResourceNotFound
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.narrow_writes import _literal
from smartcity.kernel.context.query.selection import build_selection
from smartcity.kernel.context.reads import load_entities
from smartcity.kernel.context.tables import (
    context_attribute,
    context_entity,
    context_instance,
    context_series,
)
from smartcity.kernel.storage import Store
from smartcity.kernel.storage.arrays import adapt_arrays, binary_array

VOCABULARY = "https://smartcity.example/test/"
SENSOR = VOCABULARY + "Sensor"
READING = VOCABULARY + "reading"
LABEL = VOCABULARY + "label"
LEVEL = VOCABULARY + "level"


def sensor(number: int, reading: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Sensor:{number}",
        "type": [SENSOR],
        READING: [{"type": "Property", "value": reading, "observedAt": "2026-11-21T09:00:00Z"}],
        LABEL: [{"type": "Property", "value": f"gate {number}"}],
        **extra,
    }


def readings(count: int, first: int) -> list[dict[str, Any]]:
    """A batch giving sensors 0 .. count - 1 the readings first, first + 1, ..."""
    return [
        {
            "id": f"urn:ngsi-ld:Sensor:{n}",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": first + n}],
        }
        for n in range(count)
    ]


@pytest.fixture
def library(store: Store, clock: FixedClock) -> ContextLibrary:
    return ContextLibrary(store, open_bus("local"), clock)


def history(store: Store, tenant: str = "t") -> list[dict[str, Any]]:
    """Every history row of the tenant with the key of the series it names (a row
    stores only its series id: decision 0016)."""
    i, s = context_instance, context_series
    statement = (
        select(
            s.c.entity_id,
            s.c.name,
            s.c.dataset_id,
            s.c.entity_type,
            i.c.value_number,
            i.c.value_text,
            i.c.observed_at,
        )
        .join(s, s.c.id == i.c.series_id)
        .where(s.c.tenant == tenant)
        .order_by(i.c.seq)
    )
    with store.begin() as conn:
        return [dict(row._mapping) for row in conn.execute(statement)]


def reading_column(store: Store, column: Any) -> dict[str, Any]:
    """``column`` of each stored READING row of tenant t, by entity id."""
    statement = select(context_attribute.c.entity_id, column).where(
        context_attribute.c.tenant == "t", context_attribute.c.name == READING
    )
    with store.begin() as conn:
        return {entity_id: value for entity_id, value in conn.execute(statement)}


def test_a_batch_mixing_values_in_place_new_attributes_and_new_entities(
    store: Store, library: ContextLibrary, clock: FixedClock
) -> None:
    library.create_entities("t", [sensor(n, n) for n in range(3)])
    clock.advance(timedelta(minutes=1))
    batch = [
        # in place: a number replacing a number
        {
            "id": "urn:ngsi-ld:Sensor:0",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": 40}],
        },
        # a number becoming text (its text copy changes), and an attribute new to it
        {
            "id": "urn:ngsi-ld:Sensor:1",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": "high"}],
            LEVEL: [{"type": "Property", "value": 3.5, "unitCode": "MTR"}],
        },
        # in place, with observedAt, and the label (text stays text, another value)
        {
            "id": "urn:ngsi-ld:Sensor:2",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": 42, "observedAt": "2026-11-21T09:05:00Z"}],
            LABEL: [{"type": "Property", "value": "gate two"}],
        },
        # a new entity
        sensor(3, 7),
    ]
    result = library.upsert_entities("t", batch, "update")
    assert not result.errors
    assert result.created == ["urn:ngsi-ld:Sensor:3"]
    ids = [f"urn:ngsi-ld:Sensor:{n}" for n in range(4)]
    with store.begin() as conn:
        stored = load_entities(conn, "t", ids)
    assert stored[ids[0]][READING][0]["value"] == 40
    assert "observedAt" not in stored[ids[0]][READING][0]
    assert stored[ids[0]][LABEL][0]["value"] == "gate 0"
    assert stored[ids[1]][READING][0]["value"] == "high"
    assert stored[ids[1]][LEVEL][0]["unitCode"] == "MTR"
    assert stored[ids[2]][READING][0]["observedAt"] == "2026-11-21T09:05:00Z"
    assert stored[ids[2]][LABEL][0]["value"] == "gate two"
    for entity_id in ids[:3]:
        reading = stored[entity_id][READING][0]
        assert reading["createdAt"] == "2026-11-21T09:00:00.000Z"
        assert reading["modifiedAt"] == "2026-11-21T09:01:00.000Z"
    rows = history(store)
    # 3 entities x 2 attributes created, then 1 + 2 + 2 + 2 written by the batch
    assert len(rows) == 6 + 7
    for row in rows:
        # every history row names the series of its key, under the entity's type
        assert row["entity_type"] == SENSOR
    latest = {(r["entity_id"], r["name"]): r for r in rows}
    assert latest[(ids[0], READING)]["value_number"] == 40
    assert latest[(ids[1], READING)]["value_text"] == "high"
    assert latest[(ids[1], READING)]["value_number"] is None
    assert latest[(ids[1], LEVEL)]["value_number"] == 3.5
    assert latest[(ids[2], READING)]["observed_at"] == datetime(2026, 11, 21, 9, 5, tzinfo=UTC)
    assert latest[(ids[2], LABEL)]["value_text"] == "gate two"


def test_a_batch_naming_an_entity_twice_writes_its_merged_values_once(
    store: Store, library: ContextLibrary
) -> None:
    library.create_entities("t", [sensor(1, 1)])
    first = {
        "id": "urn:ngsi-ld:Sensor:1",
        "type": [SENSOR],
        READING: [{"type": "Property", "value": 2}],
    }
    second = {
        "id": "urn:ngsi-ld:Sensor:1",
        "type": [SENSOR],
        READING: [{"type": "Property", "value": 3}],
        LABEL: [{"type": "Property", "value": "west gate"}],
    }
    result = library.upsert_entities("t", [first, second], "update")
    assert result.success == ["urn:ngsi-ld:Sensor:1"]
    with store.begin() as conn:
        stored = load_entities(conn, "t", ["urn:ngsi-ld:Sensor:1"])["urn:ngsi-ld:Sensor:1"]
    assert stored[READING][0]["value"] == 3
    assert stored[LABEL][0]["value"] == "west gate"
    rows = history(store)
    assert [r["value_number"] for r in rows if r["name"] == READING] == [1.0, 3.0]
    assert [r["value_text"] for r in rows if r["name"] == LABEL] == ["gate 1", "west gate"]


def test_multi_instance_attributes_are_replaced_by_datasetid(
    store: Store, library: ContextLibrary, clock: FixedClock
) -> None:
    dataset_b = "urn:ngsi-ld:Dataset:b"
    library.create_entities(
        "t",
        [
            {
                "id": "urn:ngsi-ld:Sensor:1",
                "type": [SENSOR],
                READING: [
                    {"type": "Property", "value": 1},
                    {"type": "Property", "value": 2, "datasetId": dataset_b},
                ],
            },
            {
                "id": "urn:ngsi-ld:Sensor:2",
                "type": [SENSOR],
                READING: [
                    {"type": "Property", "value": 1},
                    {"type": "Property", "value": 2, "datasetId": dataset_b},
                ],
            },
        ],
    )
    clock.advance(timedelta(minutes=1))
    batch = [
        # both instances at once
        {
            "id": "urn:ngsi-ld:Sensor:1",
            "type": [SENSOR],
            READING: [
                {"type": "Property", "value": 10},
                {"type": "Property", "value": 20, "datasetId": dataset_b},
            ],
        },
        # one of two instances
        {
            "id": "urn:ngsi-ld:Sensor:2",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": 30, "datasetId": dataset_b}],
        },
    ]
    assert not library.upsert_entities("t", batch, "update").errors
    with store.begin() as conn:
        stored = load_entities(conn, "t", ["urn:ngsi-ld:Sensor:1", "urn:ngsi-ld:Sensor:2"])
    values = {
        entity_id: {(i.get("datasetId", ""), i["value"], i["createdAt"]) for i in e[READING]}
        for entity_id, e in stored.items()
    }
    created = "2026-11-21T09:00:00.000Z"
    assert values["urn:ngsi-ld:Sensor:1"] == {("", 10, created), (dataset_b, 20, created)}
    assert values["urn:ngsi-ld:Sensor:2"] == {("", 1, created), (dataset_b, 30, created)}
    rows = history(store)
    assert len(rows) == 4 + 3
    assert {(row["entity_id"], row["dataset_id"]) for row in rows} == {
        ("urn:ngsi-ld:Sensor:1", ""),
        ("urn:ngsi-ld:Sensor:1", dataset_b),
        ("urn:ngsi-ld:Sensor:2", ""),
        ("urn:ngsi-ld:Sensor:2", dataset_b),
    }


def test_a_row_deleted_after_the_batch_read_it_asks_for_a_retry(
    store: Store, library: ContextLibrary, clock: FixedClock
) -> None:
    """Found by its row id (SQLite) or its key: a vanished row is never left unwritten."""
    library.create_entities("t", [sensor(1, 4), sensor(2, 4)])
    with store.begin() as conn:
        changes = Changes("t", clock.now())
        changes.narrow_updates = True
        existing = load_batch(conn, "t", ["urn:ngsi-ld:Sensor:1"], changes.stored_rows)
        changes.merge(
            existing["urn:ngsi-ld:Sensor:1"], {READING: [{"type": "Property", "value": 7}]}
        )
        assert len(changes.narrow_rows) == 1
        conn.execute(
            delete(context_attribute).where(
                context_attribute.c.tenant == "t",
                context_attribute.c.entity_id == "urn:ngsi-ld:Sensor:1",
                context_attribute.c.name == READING,
            )
        )
        with pytest.raises(IntegrityError):
            changes.apply(conn, store)


def test_the_batch_write_and_its_history_are_one_transaction(
    store: Store, library: ContextLibrary
) -> None:
    library.create_entities("t", [sensor(n, n) for n in range(20)])
    before = history(store)
    batch = [
        {
            "id": f"urn:ngsi-ld:Sensor:{n}",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": -n}],
        }
        for n in range(20)
    ]
    assert len(library.upsert_entities("t", batch, "update").success) == 20
    after = history(store)
    assert len(after) == len(before) + 20
    with store.begin() as conn:
        values = conn.execute(
            select(context_attribute.c.entity_id, context_attribute.c.value_number).where(
                context_attribute.c.tenant == "t", context_attribute.c.name == READING
            )
        ).all()
    assert {entity_id: value for entity_id, value in values} == {
        f"urn:ngsi-ld:Sensor:{n}": float(-n) for n in range(20)
    }


def test_other_tenants_keep_their_values(store: Store, library: ContextLibrary) -> None:
    library.create_entities("t", [sensor(1, 1)])
    library.create_entities("u", [sensor(1, 1)])
    batch = [
        {
            "id": "urn:ngsi-ld:Sensor:1",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": 9}],
        }
    ]
    assert not library.upsert_entities("t", batch, "update").errors
    with store.begin() as conn:
        mine = load_entities(conn, "t", ["urn:ngsi-ld:Sensor:1"])["urn:ngsi-ld:Sensor:1"]
        theirs = load_entities(conn, "u", ["urn:ngsi-ld:Sensor:1"])["urn:ngsi-ld:Sensor:1"]
    assert mine[READING][0]["value"] == 9
    assert theirs[READING][0]["value"] == 1
    assert len(history(store, "u")) == 2


def test_non_finite_numbers_replaced_in_place_are_stored_and_recorded(
    store: Store, library: ContextLibrary
) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SQLite stores NaN as NULL")
    library.create_entities("t", [sensor(n, 1) for n in range(3)])
    values = [1.5, math.inf, -math.inf]
    batch = [
        {
            "id": f"urn:ngsi-ld:Sensor:{n}",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": value}],
        }
        for n, value in enumerate(values)
    ]
    assert not library.upsert_entities("t", batch, "update").errors
    nan = [{**batch[0], READING: [{"type": "Property", "value": math.nan}]}]
    assert not library.upsert_entities("t", nan, "update").errors
    stored = reading_column(store, context_attribute.c.value_number)
    assert stored["urn:ngsi-ld:Sensor:1"] == math.inf
    assert stored["urn:ngsi-ld:Sensor:2"] == -math.inf
    assert math.isnan(stored["urn:ngsi-ld:Sensor:0"])
    recorded = [r["value_number"] for r in history(store) if r["name"] == READING][-4:]
    assert recorded[:3] == values
    assert math.isnan(recorded[3])


def test_a_batch_in_parts_writes_every_value_and_its_history(
    store: Store, library: ContextLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL streams a batch part by part (parts of 2 here); values replaced in
    place, values written otherwise and new entities all land, each with its history,
    and the report names every entity in order."""
    monkeypatch.setattr(entities_module, "PART", 2)
    library.create_entities("t", [sensor(n, n) for n in range(5)])
    before = len(history(store))
    batch = [
        {
            "id": f"urn:ngsi-ld:Sensor:{n}",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": 100 + n}],
            # A text replacing a text: an upsert of the row, not in place, on part 2.
            **({LABEL: [{"type": "Property", "value": "moved"}]} if n == 2 else {}),
        }
        for n in range(7)
    ]
    result = library.upsert_entities("t", batch, "update")
    assert not result.errors
    assert result.success == [f"urn:ngsi-ld:Sensor:{n}" for n in range(7)]
    assert result.created == ["urn:ngsi-ld:Sensor:5", "urn:ngsi-ld:Sensor:6"]
    with store.begin() as conn:
        stored = load_entities(conn, "t", [f"urn:ngsi-ld:Sensor:{n}" for n in range(7)])
    assert {k: v[READING][0]["value"] for k, v in stored.items()} == {
        f"urn:ngsi-ld:Sensor:{n}": 100 + n for n in range(7)
    }
    assert stored["urn:ngsi-ld:Sensor:2"][LABEL][0]["value"] == "moved"
    recorded = history(store)[before:]
    assert sorted((r["entity_id"], r["name"], r["value_number"]) for r in recorded) == sorted(
        [(f"urn:ngsi-ld:Sensor:{n}", READING, float(100 + n)) for n in range(7)]
        + [("urn:ngsi-ld:Sensor:2", LABEL, None)]
    )


def test_a_batch_in_parts_touches_the_entities_it_changed_and_no_other(
    store: Store, library: ContextLibrary, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL touches each part's entities with its values; the entity's
    ``modifiedAt`` is the batch's time for every entity changed, in every part, and
    stays as it was for the others."""
    monkeypatch.setattr(entities_module, "PART", 2)
    library.create_entities("t", [sensor(n, n) for n in range(6)])
    clock.advance(timedelta(minutes=1))
    batch = readings(5, 50)
    assert library.update_entities("t", batch).success == [entity["id"] for entity in batch]
    with store.begin() as conn:
        stored = load_entities(conn, "t", [f"urn:ngsi-ld:Sensor:{n}" for n in range(6)])
    modified = {entity_id: entity["modifiedAt"] for entity_id, entity in stored.items()}
    assert modified == {
        **{f"urn:ngsi-ld:Sensor:{n}": "2026-11-21T09:01:00.000Z" for n in range(5)},
        "urn:ngsi-ld:Sensor:5": "2026-11-21T09:00:00.000Z",
    }
    assert {e["createdAt"] for e in stored.values()} == {"2026-11-21T09:00:00.000Z"}


class _DeletingStream(entities_module.NarrowStream):
    """A stream that, before writing its first part, lets another transaction delete
    an entity of a later part (read already: every part is read up front)."""

    victim = "urn:ngsi-ld:Sensor:4"
    store: Store
    done = False

    def send(self, rows: Any, touched: Any = ()) -> None:
        if not _DeletingStream.done:
            _DeletingStream.done = True
            with self.store.begin() as other:
                other.execute(
                    delete(context_entity).where(
                        context_entity.c.tenant == "t", context_entity.c.id == self.victim
                    )
                )
        super().send(rows, touched)


def test_an_entity_deleted_by_another_transaction_during_a_batch_is_reported_missing(
    store: Store, library: ContextLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read up front, gone before its part is written: the batch runs again on fresh
    data, reports that entity missing and writes every other value and history row once."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite lets no other transaction write while a batch runs")
    monkeypatch.setattr(entities_module, "PART", 2)
    monkeypatch.setattr(_DeletingStream, "store", store, raising=False)
    monkeypatch.setattr(_DeletingStream, "done", False)
    monkeypatch.setattr(entities_module, "NarrowStream", _DeletingStream)
    library.create_entities("t", [sensor(n, n) for n in range(6)])
    before = len(history(store))
    batch = readings(6, 70)
    result = library.update_entities("t", batch)
    assert _DeletingStream.done
    assert result.success == [f"urn:ngsi-ld:Sensor:{n}" for n in (0, 1, 2, 3, 5)]
    assert [error.entity_id for error in result.errors] == ["urn:ngsi-ld:Sensor:4"]
    assert isinstance(result.errors[0].error, ResourceNotFound)
    assert reading_column(store, context_attribute.c.value_number) == {
        f"urn:ngsi-ld:Sensor:{n}": float(70 + n) for n in (0, 1, 2, 3, 5)
    }
    recorded = [(r["entity_id"], r["value_number"]) for r in history(store)[before:]]
    assert sorted(recorded) == [(f"urn:ngsi-ld:Sensor:{n}", float(70 + n)) for n in (0, 1, 2, 3, 5)]


def test_a_value_whose_history_cannot_be_recorded_asks_for_a_retry(
    store: Store, library: ContextLibrary, clock: FixedClock
) -> None:
    """The values a streamed part replaced in place are counted once the parts are
    written: a row (here its series) gone since the read fails the write, which the
    write path then runs again on fresh data."""
    library.create_entities("t", [sensor(n, 4) for n in range(3)])
    batch = [
        {
            "id": f"urn:ngsi-ld:Sensor:{n}",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": 9}],
        }
        for n in range(3)
    ]
    with pytest.raises(IntegrityError), store.begin() as conn:
        conn.execute(
            delete(context_series).where(
                context_series.c.tenant == "t",
                context_series.c.entity_id == "urn:ngsi-ld:Sensor:1",
                context_series.c.name == READING,
            )
        )
        changes = Changes("t", clock.now())
        changes.narrow_updates = True
        with stored_entities(conn, "t", batch, changes) as stored:
            for entity, current in stored:
                assert current is not None
                changes.merge(current, {READING: entity[READING]})
        changes.apply(conn, store)


@pytest.mark.parametrize("handed_over", [False, True])
def test_a_value_replaced_in_place_may_not_be_written_otherwise(
    store: Store, library: ContextLibrary, clock: FixedClock, handed_over: bool
) -> None:
    """The batch use cases never do it; a future one that did would fail loudly, also
    when the value was handed over to be written already (``take_narrow``)."""
    library.create_entities("t", [sensor(1, 4)])
    with store.begin() as conn:
        changes = Changes("t", clock.now())
        changes.narrow_updates = True
        existing = load_batch(conn, "t", ["urn:ngsi-ld:Sensor:1"], changes.stored_rows)
        entity = existing["urn:ngsi-ld:Sensor:1"]
        changes.merge(entity, {READING: [{"type": "Property", "value": 7}]})
        if handed_over:
            rows, touched = changes.take_narrow()
            assert len(rows) == 1 and touched == ["urn:ngsi-ld:Sensor:1"]
            assert changes.take_narrow() == ([], [])
        changes.remove_entity(entity)
        with pytest.raises(RuntimeError):
            changes.apply(conn, store)


def test_a_value_in_place_may_change_its_unit(store: Store, library: ContextLibrary) -> None:
    library.create_entities("t", [sensor(1, 4), sensor(2, 4)])
    batch = [
        {
            "id": "urn:ngsi-ld:Sensor:1",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": 5, "unitCode": "CEL"}],
        },
        {
            "id": "urn:ngsi-ld:Sensor:2",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": 6}],
        },
    ]
    assert not library.upsert_entities("t", batch, "update").errors
    units = reading_column(store, context_attribute.c.unit_code)
    assert units == {"urn:ngsi-ld:Sensor:1": "CEL", "urn:ngsi-ld:Sensor:2": None}


@pytest.mark.parametrize("unit", ["CEL", "o'clock", "x\\'); --"])
def test_a_batch_sharing_one_value_stores_and_records_it_whatever_it_holds(
    store: Store, library: ContextLibrary, unit: str
) -> None:
    """One value over the whole batch (a unit, a text, an instant) is stored as sent,
    whether it is written once into the statement or bound (a quote always is)."""
    text = f"open {unit}"
    library.create_entities(
        "t",
        [
            sensor(n, 1, **{LEVEL: [{"type": "Property", "value": text, "unitCode": unit}]})
            for n in range(3)
        ],
    )
    batch = [
        {
            "id": f"urn:ngsi-ld:Sensor:{n}",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": 2.5, "unitCode": unit}],
            LEVEL: [
                {
                    "type": "Property",
                    "value": text,
                    "unitCode": unit,
                    "observedAt": "2026-11-21T10:00:00Z",
                }
            ],
        }
        for n in range(3)
    ]
    assert not library.upsert_entities("t", batch, "update").errors
    with store.begin() as conn:
        stored = load_entities(conn, "t", [f"urn:ngsi-ld:Sensor:{n}" for n in range(3)])
        rows = conn.execute(
            select(
                context_attribute.c.name,
                context_attribute.c.value_number,
                context_attribute.c.value_text,
                context_attribute.c.unit_code,
            ).where(context_attribute.c.tenant == "t", context_attribute.c.name != LABEL)
        ).all()
    assert sorted(set(rows)) == [(LEVEL, None, text, unit), (READING, 2.5, None, unit)]
    for entity in stored.values():
        assert entity[READING][0]["value"] == 2.5
        assert entity[READING][0]["unitCode"] == unit
        assert entity[LEVEL][0]["value"] == text
        assert entity[LEVEL][0]["observedAt"] == "2026-11-21T10:00:00Z"
    recorded = history(store)[-6:]
    assert sorted((r["name"], r["value_number"], r["value_text"]) for r in recorded) == sorted(
        [(READING, 2.5, None)] * 3 + [(LEVEL, None, text)] * 3
    )
    assert {r["observed_at"] for r in recorded if r["name"] == LEVEL} == {
        datetime(2026, 11, 21, 10, tzinfo=UTC)
    }


@given(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=80)))
def test_a_value_written_into_the_statement_reads_back_as_itself(value: Any) -> None:
    """Only NULL, integers and plain words become SQL text, and SQLite reads them back
    unchanged; everything else (a quote, a backslash, any other character) is bound."""
    literal = _literal([value, value])
    if literal is None:
        assert isinstance(value, str)
        return
    with sqlite3.connect(":memory:") as db:
        assert db.execute(f"SELECT {literal}").fetchone()[0] == value
    assert _literal([value, "other"]) is None


def test_a_batch_repeating_some_stored_numbers_stores_records_and_finds_every_value(
    store: Store, library: ContextLibrary, clock: FixedClock
) -> None:
    """Numbers equal to the stored ones are written without touching ``value_number``
    (SQLite); the others replace it. Either way the value, its times, its history row
    and what ``q`` finds are those of the batch."""
    # Entity 6 stores a list (no number copy) and gets the number it held.
    library.create_entities("t", [*(sensor(n, n) for n in range(6)), sensor(6, [4])])
    clock.advance(timedelta(minutes=1))
    observed = "2026-11-21T09:07:00Z"
    # Even entities repeat their number (as an integer or a float), odd ones change it;
    # entity 4 stored 4 and sends 4.0, entity 0 stored 0 and sends -0.0.
    values = {0: -0.0, 1: 11, 2: 2, 3: 13.5, 4: 4.0, 5: 15, 6: 4}
    batch = [
        {
            "id": f"urn:ngsi-ld:Sensor:{n}",
            "type": [SENSOR],
            READING: [{"type": "Property", "value": value, "observedAt": observed}],
        }
        for n, value in values.items()
    ]
    result = library.upsert_entities("t", batch, "update")
    assert not result.errors
    ids = [f"urn:ngsi-ld:Sensor:{n}" for n in values]
    with store.begin() as conn:
        stored = load_entities(conn, "t", ids)
        numbers = dict(
            conn.execute(
                select(context_attribute.c.entity_id, context_attribute.c.value_number).where(
                    context_attribute.c.tenant == "t", context_attribute.c.name == READING
                )
            ).all()
        )
    for n, value in values.items():
        reading = stored[f"urn:ngsi-ld:Sensor:{n}"][READING][0]
        assert reading["value"] == value
        assert type(reading["value"]) is type(value)
        assert reading["observedAt"] == observed
        assert reading["createdAt"] == "2026-11-21T09:00:00.000Z"
        assert reading["modifiedAt"] == "2026-11-21T09:01:00.000Z"
        assert numbers[f"urn:ngsi-ld:Sensor:{n}"] == value
    latest = {r["entity_id"]: r for r in history(store) if r["name"] == READING}
    assert {entity_id: row["value_number"] for entity_id, row in latest.items()} == {
        f"urn:ngsi-ld:Sensor:{n}": value for n, value in values.items()
    }
    assert all(
        row["observed_at"] == datetime(2026, 11, 21, 9, 7, tzinfo=UTC) for row in latest.values()
    )
    assert len(history(store)) == 2 * 7 + 7
    selection = build_selection(
        "t", expand=lambda term: VOCABULARY + term, type_param="Sensor", q_text="reading>=4"
    )
    found = {e["id"] for e in library.query_entities(selection, limit=100).entities}
    assert found == {f"urn:ngsi-ld:Sensor:{n}" for n in (1, 3, 4, 5, 6)}


def test_binary_arrays_read_back_as_sent(store: Store) -> None:
    """The arrays the PostgreSQL batch write builds itself: any text, NULLs, infinities,
    NaN and instants to the microsecond arrive as they were."""
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL's binary array format")
    texts = ["", "urn:ngsi-ld:Sensor:1", 'quote " brace {,} back \\ slash', "中文 é", None]
    numbers = [0.0, -1.5, 1e300, math.inf, -math.inf, None]
    instants = [datetime(2026, 11, 21, 9, 0, 1, 234567, tzinfo=UTC), None]
    instants.append(datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC) - timedelta(microseconds=1))
    with store.begin() as conn:
        driver = conn.connection.driver_connection
        adapt_arrays(driver)
        row = driver.execute(
            "SELECT %b::text[], %b::float8[], %b::timestamptz[], %b::float8[]",
            (
                binary_array("text", texts),
                binary_array("float8", numbers),
                binary_array("timestamptz", instants),
                binary_array("float8", [math.nan] * 3),
            ),
        ).fetchone()
    assert row[0] == texts
    assert row[1] == numbers
    assert [None if i is None else i.astimezone(UTC) for i in row[2]] == instants
    assert all(math.isnan(v) for v in row[3])


OPEN = VOCABULARY + "open"


def test_booleans_replaced_in_place_keep_each_entitys_value(
    store: Store, library: ContextLibrary, clock: FixedClock
) -> None:
    """A batch's values in place whose boolean copies differ between entities (one
    gate open, one closed, each as stored): each keeps its own, and the history
    records each reading."""
    gates = [sensor(n, n, **{OPEN: [{"type": "Property", "value": n % 2 == 0}]}) for n in range(4)]
    library.create_entities("t", gates)
    clock.advance(timedelta(minutes=1))
    batch = [
        {
            "id": gate["id"],
            "type": [SENSOR],
            OPEN: [{"type": "Property", "value": n % 2 == 0, "observedAt": "2026-11-21T09:01:00Z"}],
        }
        for n, gate in enumerate(gates)
    ]
    assert not library.update_entities("t", batch).errors
    ids = [gate["id"] for gate in gates]
    with store.begin() as conn:
        stored = load_entities(conn, "t", ids)
    assert [stored[i][OPEN][0]["value"] for i in ids] == [True, False, True, False]
    assert {stored[i][OPEN][0]["observedAt"] for i in ids} == {"2026-11-21T09:01:00Z"}
    recorded = [row for row in history(store) if row["name"] == OPEN]
    assert len(recorded) == 8


def test_a_batch_in_parts_writes_touches_and_values_once_whatever_each_part_holds(
    store: Store, library: ContextLibrary, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts with values in place, a part whose entities only gain a type (touches but
    no value), and a part of new entities: every entity's ``modifiedAt`` and every
    value written, each history row once."""
    monkeypatch.setattr(entities_module, "PART", 2)
    library.create_entities("t", [sensor(n, n) for n in range(6)])
    clock.advance(timedelta(minutes=1))
    other = VOCABULARY + "Gate"
    batch = [
        *readings(2, 50),
        *({"id": f"urn:ngsi-ld:Sensor:{n}", "type": [SENSOR, other]} for n in (2, 3)),
        *(
            {
                "id": f"urn:ngsi-ld:Sensor:{n}",
                "type": [SENSOR],
                READING: [{"type": "Property", "value": n}],
            }
            for n in (4, 5)
        ),
        sensor(6, 6),
    ]
    before = len(history(store))
    result = library.upsert_entities("t", batch, "update")
    assert not result.errors
    assert result.created == ["urn:ngsi-ld:Sensor:6"]
    ids = [f"urn:ngsi-ld:Sensor:{n}" for n in range(7)]
    with store.begin() as conn:
        stored = load_entities(conn, "t", ids)
    assert {stored[i]["modifiedAt"] for i in ids} == {"2026-11-21T09:01:00.000Z"}
    assert [stored[i][READING][0]["value"] for i in ids] == [50, 51, 2, 3, 4, 5, 6]
    assert other in stored[ids[2]]["type"] and other in stored[ids[3]]["type"]
    # 2 + 2 values in place, and the new entity's two attributes
    assert len(history(store)) == before + 6
