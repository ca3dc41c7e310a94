"""Batches of new entities and new attributes: every row stored exactly as one by one.

On PostgreSQL a batch's new rows go as one statement over arrays per table
(``array_inserts``); a single-entity write keeps its own statements. The same entities
written both ways (two tenants) must read back the same: entities, their rows, their
history and its series.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from smartcity.kernel.bus import open_bus
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.entity_rows import location_columns
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.query.selection import build_selection
from smartcity.kernel.context.tables import (
    context_attribute,
    context_entity,
    context_entity_type,
    context_instance,
    context_series,
)
from smartcity.kernel.context.temporal import TemporalHistory
from smartcity.kernel.context.temporal_params import TemporalQuery
from smartcity.kernel.storage import Store

VOCABULARY = "https://smartcity.example/test/"
SENSOR = VOCABULARY + "Sensor"
STATION = VOCABULARY + "Station"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"
# Text that an array literal, COPY or SQL quoting would read otherwise.
AWKWARD = [
    'a "quoted" value',
    "it's",
    "{braces,and,commas}",
    "back\\slash \\N \\\\ end\\",
    "NULL",
    "",
    "北京市朝阳区 🚦 路口",
    "tab\tnew\nline",
]


def awkward_entity(number: int) -> dict[str, Any]:
    """An entity with every kind of value a batch may carry."""
    text = AWKWARD[number % len(AWKWARD)]
    longitude = 116.3 + number / 1000
    entity: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Sensor:{number}",
        "type": [SENSOR, STATION] if number % 2 else [SENSOR],
        VOCABULARY + "label": [{"type": "Property", "value": text}],
        VOCABULARY + "reading": [
            {
                "type": "Property",
                "value": number * 1.5,
                "observedAt": f"2026-11-21T08:{number % 60:02d}:00Z",
                "unitCode": "CEL",
                # A sub-property: the JSON of the attribute keeps it.
                VOCABULARY + "accuracy": [{"type": "Property", "value": 0.25}],
            }
        ],
        VOCABULARY + "open": [{"type": "Property", "value": number % 3 == 0}],
        VOCABULARY + "settings": [{"type": "Property", "value": {"mode": text, "n": [1, None]}}],
        VOCABULARY + "lane": [
            {"type": "Property", "value": 1},
            {"type": "Property", "value": text, "datasetId": "urn:ngsi-ld:Dataset:north"},
            {"type": "Property", "value": 3.5, "datasetId": "urn:ngsi-ld:Dataset:south"},
        ],
        VOCABULARY + "name": [{"type": "LanguageProperty", "languageMap": {"zh": text, "en": "x"}}],
        VOCABULARY + "station": [
            {"type": "Relationship", "object": f"urn:ngsi-ld:Station:{number % 4}"}
        ],
    }
    if number % 3:
        entity[LOCATION] = [
            {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [longitude, 39.9]}
                if number % 3 == 1
                else {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [longitude, 39.9],
                            [longitude + 0.01, 39.9],
                            [longitude + 0.01, 39.91],
                            [longitude, 39.9],
                        ]
                    ],
                },
            }
        ]
    return entity


BATCH = [awkward_entity(number) for number in range(24)]


@pytest.fixture
def library(store: Store, clock: FixedClock) -> ContextLibrary:
    return ContextLibrary(store, open_bus("local"), clock)


def without_times(entity: dict[str, Any]) -> dict[str, Any]:
    """``entity`` without its system timestamps (two writes, two instants)."""
    return {
        name: [{k: v for k, v in i.items() if k not in ("createdAt", "modifiedAt")} for i in value]
        if isinstance(value, list) and value and isinstance(value[0], dict)
        else value
        for name, value in entity.items()
        if name not in ("createdAt", "modifiedAt")
    }


def stored_rows(store: Store, tenant: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of ``tenant`` in the context tables, in order, without the tenant."""
    e, t, a, s, i = (
        context_entity,
        context_entity_type,
        context_attribute,
        context_series,
        context_instance,
    )
    statements = {
        "entity": select(*(c for c in e.c if c.name not in ("tenant",))).where(
            e.c.tenant == tenant
        ),
        "type": select(t.c.entity_id, t.c.type).where(t.c.tenant == tenant),
        "attribute": select(*(c for c in a.c if c.name != "tenant")).where(a.c.tenant == tenant),
        "history": select(
            s.c.entity_id,
            s.c.name,
            s.c.dataset_id,
            s.c.entity_type,
            *(c for c in i.c if c.name not in ("seq", "series_id")),
        )
        .join(s, s.c.id == i.c.series_id)
        .where(s.c.tenant == tenant),
    }
    found: dict[str, list[tuple[Any, ...]]] = {}
    with store.begin() as conn:
        for table, statement in statements.items():
            rows = [tuple(row) for row in conn.execute(statement)]
            found[table] = sorted(rows, key=repr)
    return found


def test_a_batch_of_new_entities_stores_what_single_writes_store(
    library: ContextLibrary, store: Store
) -> None:
    result = library.create_entities("batch", BATCH)
    assert result.errors == [] and len(result.created) == len(BATCH)
    for entity in BATCH:
        # One attribute per write: a single-entity write's few rows, on their own path.
        library.create_entity("single", {"id": entity["id"], "type": entity["type"]})
        for name, instances in entity.items():
            if name not in ("id", "type"):
                library.update_attributes("single", entity["id"], {name: instances}, "append")

    batch_rows, single_rows = stored_rows(store, "batch"), stored_rows(store, "single")
    assert batch_rows == single_rows
    assert len(batch_rows["attribute"]) == 24 * 9 + 16
    assert len(batch_rows["history"]) == len(batch_rows["attribute"])
    for entity in BATCH:
        retrieved = library.retrieve_entity("batch", entity["id"])
        assert without_times(retrieved) == without_times(entity)
        assert retrieved == library.retrieve_entity("single", entity["id"])


def test_the_awkward_text_of_a_batch_reads_back_and_is_found(
    library: ContextLibrary, store: Store
) -> None:
    library.upsert_entities("t", BATCH, "update")

    with store.begin() as conn:
        texts = conn.execute(
            select(context_attribute.c.value_text).where(
                context_attribute.c.tenant == "t",
                context_attribute.c.name == VOCABULARY + "label",
            )
        ).scalars()
        assert sorted(texts) == sorted(AWKWARD * 3)
        geometries = conn.execute(
            select(func.count()).where(
                context_entity.c.tenant == "t", context_entity.c.location.is_not(None)
            )
        ).scalar_one()
        assert geometries == 16
    stations = library.query_entities(build_selection("t", type_param=STATION), limit=100)
    assert {e["id"] for e in stations.entities} == {e["id"] for e in BATCH if STATION in e["type"]}
    located = library.query_entities(
        build_selection(
            "t",
            georel="within",
            geometry="Polygon",
            coordinates="[[[116.2,39.8],[116.4,39.8],[116.4,40.0],[116.2,40.0],[116.2,39.8]]]",
        ),
        limit=100,
    )
    assert {e["id"] for e in located.entities} == {e["id"] for e in BATCH if LOCATION in e}
    near = library.query_entities(
        build_selection(
            "t", georel="near;maxDistance==1", geometry="Point", coordinates="[116.301, 39.9]"
        )
    )
    assert [e["id"] for e in near.entities] == ["urn:ngsi-ld:Sensor:1"]


def test_the_history_of_new_attributes_is_exact(library: ContextLibrary, store: Store) -> None:
    bare = [{"id": entity["id"], "type": entity["type"]} for entity in BATCH]
    library.create_entities("t", bare)
    # New attributes on known entities: the first batch of freshly provisioned devices.
    result = library.upsert_entities("t", BATCH, "update")
    assert result.errors == []

    history = TemporalHistory(store)
    for entity in BATCH:
        found = history.retrieve("t", entity["id"], TemporalQuery())
        written = sorted(
            (name, instance.get("datasetId", ""), without_times({"a": [instance]})["a"][0])
            for name, instances in entity.items()
            if name not in ("id", "type")
            for instance in instances
        )
        recorded = sorted(
            (
                instance.name,
                instance.dataset_id,
                {
                    k: v
                    for k, v in instance.attribute.items()
                    if k not in ("createdAt", "modifiedAt", "instanceId")
                },
            )
            for instance in found.instances
        )
        assert recorded == written
        assert {instance.recorded_at for instance in found.instances} == {
            datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
        }


def test_two_writers_adding_the_same_new_attributes_share_their_series(
    library: ContextLibrary, store: Store
) -> None:
    bare = [{"id": entity["id"], "type": [SENSOR]} for entity in BATCH]
    library.create_entities("t", bare)
    readings = [
        [
            {
                "id": entity["id"],
                "type": [SENSOR],
                VOCABULARY + "level": [{"type": "Property", "value": float(writer)}],
                VOCABULARY + "state": [{"type": "Property", "value": f"writer {writer}"}],
            }
            for entity in BATCH
        ]
        for writer in (1, 2)
    ]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(batch: list[dict[str, Any]]) -> None:
        try:
            start.wait()
            outcome = library.upsert_entities("t", batch, "update")
            assert outcome.errors == []
        except BaseException as error:  # reported by the test's thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(batch,)) for batch in readings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    rows = stored_rows(store, "t")
    with store.begin() as conn:
        series = conn.execute(
            select(func.count()).where(context_series.c.tenant == "t")
        ).scalar_one()
    assert series == len(BATCH) * 2
    # Each series has both writers' values; the attribute holds the one written last.
    levels = sorted(row[5] for row in rows["history"] if row[1] == VOCABULARY + "level")
    assert levels == [1.0] * len(BATCH) + [2.0] * len(BATCH)
    current = {
        (row[0], row[1]): (row[5], row[6])
        for row in rows["attribute"]
        if row[1] in (VOCABULARY + "level", VOCABULARY + "state")
    }
    assert len(current) == len(BATCH) * 2
    for entity in BATCH:
        level = current[(entity["id"], VOCABULARY + "level")][0]
        state = current[(entity["id"], VOCABULARY + "state")][1]
        assert state == f"writer {int(level)}"


def test_a_first_batch_leaves_the_entity_key_checks_a_primary_key_probe(
    library: ContextLibrary, store: Store
) -> None:
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    with store.begin() as conn:
        # As on a fresh database: no statistics (the tests' TRUNCATE leaves none either).
        conn.exec_driver_sql("TRUNCATE context_entity CASCADE")
    many = [{"id": f"urn:ngsi-ld:Sensor:{n}", "type": [SENSOR]} for n in range(400)]
    assert library.create_entities("t", many).errors == []
    # New attributes reference them: each row's foreign key is checked by this query,
    # planned once per connection for any key.
    with store.connect() as conn:
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql(
            "PREPARE entity_key(text, text) AS SELECT 1 FROM ONLY context_entity x "
            "WHERE tenant = $1 AND id = $2 FOR KEY SHARE OF x"
        )
        plan = "\n".join(
            row[0] for row in conn.exec_driver_sql("EXPLAIN EXECUTE entity_key('t', 'a')")
        )
        conn.exec_driver_sql("DEALLOCATE entity_key")
        conn.exec_driver_sql("RESET plan_cache_mode")
    assert "pk_context_entity" in plan
    added = [
        {**entity, VOCABULARY + "level": [{"type": "Property", "value": 1}]} for entity in many
    ]
    assert library.upsert_entities("t", added, "update").errors == []
    assert len(stored_rows(store, "t")["history"]) == 400


def moved(entity: dict[str, Any]) -> dict[str, Any]:
    """``entity`` replaced: another label, one attribute fewer, a location moved or added."""
    number = int(entity["id"].rsplit(":", 1)[1])
    replaced = {k: v for k, v in entity.items() if k != VOCABULARY + "open"}
    replaced[VOCABULARY + "label"] = [{"type": "Property", "value": f"moved {number}"}]
    replaced[LOCATION] = [
        {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.4, 31.2 + number]}}
    ]
    return replaced


def test_a_batch_replacing_entities_stores_what_single_replaces_store(
    library: ContextLibrary, store: Store
) -> None:
    for tenant in ("batch", "single"):
        assert library.create_entities(tenant, BATCH).errors == []
    assert library.upsert_entities("batch", [moved(e) for e in BATCH], "replace").errors == []
    for entity in BATCH:
        library.replace_entity("single", moved(entity))

    batch_rows = stored_rows(store, "batch")
    assert batch_rows == stored_rows(store, "single")
    # Both may take the array statements (a replace writes many rows): the entity rows
    # against what the platform computes for each location.
    columns = [c.name for c in context_entity.c if c.name != "tenant"]
    for row in batch_rows["entity"]:
        stored = dict(zip(columns, row, strict=True))
        expected = location_columns(moved(next(e for e in BATCH if e["id"] == stored["id"])))
        assert stored["location"].equals(expected.pop("location"))
        assert {name: stored[name] for name in expected} == expected
        assert stored["modified_at"] == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    located = library.query_entities(
        build_selection(
            "batch", georel="near;maxDistance==1", geometry="Point", coordinates="[121.4, 34.2]"
        )
    )
    assert [e["id"] for e in located.entities] == ["urn:ngsi-ld:Sensor:3"]
