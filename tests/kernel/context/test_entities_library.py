"""The information library's write and read paths, on the backend under test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from smartcity.kernel.bus import Event
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.errors import (
    AlreadyExists,
    BadRequestData,
    NonexistentTenant,
    ResourceNotFound,
)
from smartcity.kernel.context.events import EntityChanged
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.model import format_instant
from smartcity.kernel.context.normalize import (
    normalize_attributes,
    normalize_entity,
    normalize_fragment,
)
from smartcity.kernel.context.query.selection import build_selection
from smartcity.kernel.context.reads import sqlite_instant_text
from smartcity.kernel.context.tables import context_attribute, context_entity, context_instance
from smartcity.kernel.storage import Store
from tests.kernel.context.test_entities_fakes import DEFAULT, FakeContext

CONTEXT = FakeContext()
LOCATION = "https://uri.etsi.org/ngsi-ld/location"
TEMPERATURE = DEFAULT + "temperature"


class RecordingBus:
    """Keeps what is published."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def drain(self) -> None: ...

    def subscribe(
        self, pattern: str, handler: Any, *, name: str | None = None, accepts: Any = None
    ) -> Any:
        raise NotImplementedError


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
def library(store: Store, bus: RecordingBus, clock: FixedClock) -> ContextLibrary:
    return ContextLibrary(store, bus, clock)  # type: ignore[arg-type]


def station(number: int = 1, **extra: Any) -> dict[str, Any]:
    document = {
        "id": f"urn:ngsi-ld:Station:{number}",
        "type": "Station",
        "temperature": {
            "type": "Property",
            "value": 21.5,
            "unitCode": "CEL",
            "observedAt": "2026-11-21T08:59:00Z",
        },
        "name": "站一",
        "active": True,
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Organization:1"},
        "location": {"type": "Point", "coordinates": [113.26, 23.13]},
    }
    document.update(extra)
    return normalize_entity(document, CONTEXT)


def test_create_then_retrieve_with_system_attributes(
    library: ContextLibrary, store: Store, bus: RecordingBus
) -> None:
    library.create_entity("", station())
    entity = library.retrieve_entity("", "urn:ngsi-ld:Station:1")
    assert entity["type"] == [DEFAULT + "Station"]
    assert entity["createdAt"] == "2026-11-21T09:00:00.000Z"
    temperature = entity[TEMPERATURE][0]
    assert temperature["value"] == 21.5
    assert temperature["observedAt"] == "2026-11-21T08:59:00.000Z"
    assert temperature["createdAt"] == temperature["modifiedAt"] == "2026-11-21T09:00:00.000Z"
    with store.connect() as conn:
        row = conn.execute(select(context_entity)).one()
        typed = {
            r.name.rsplit("/", 1)[-1]: (r.value_number, r.value_text, r.value_bool)
            for r in conn.execute(select(context_attribute))
        }
        history = conn.execute(select(context_instance)).all()
    assert row.location_cell is not None and row.location_west == pytest.approx(113.26)
    assert typed["temperature"] == (21.5, None, None)
    assert typed["name"] == (None, "站一", None)
    assert typed["active"] == (None, None, True)
    assert typed["owner"] == (None, "urn:ngsi-ld:Organization:1", None)
    assert len(history) == 5
    # each row names its series (decision 0016): one per attribute of the entity
    assert len({h.series_id for h in history}) == 5
    [event] = bus.events
    assert isinstance(event, EntityChanged) and event.operation == "create"
    assert event.entity[TEMPERATURE][0]["value"] == 21.5


def test_create_twice_is_already_exists(library: ContextLibrary) -> None:
    library.create_entity("", station())
    with pytest.raises(AlreadyExists):
        library.create_entity("", station())


def test_missing_entity_and_unknown_tenant(library: ContextLibrary) -> None:
    with pytest.raises(ResourceNotFound):
        library.retrieve_entity("", "urn:ngsi-ld:Station:9")
    with pytest.raises(NonexistentTenant):
        library.retrieve_entity("nobody", "urn:ngsi-ld:Station:9")


def test_tenants_do_not_see_each_other(library: ContextLibrary) -> None:
    library.create_entity("water", station())
    with pytest.raises(ResourceNotFound):
        library.retrieve_entity("", "urn:ngsi-ld:Station:1")
    with pytest.raises(ResourceNotFound):
        library.retrieve_entity("water", "urn:ngsi-ld:Station:2")
    assert library.retrieve_entity("water", "urn:ngsi-ld:Station:1")["id"]


def test_update_modes(library: ContextLibrary, clock: FixedClock, bus: RecordingBus) -> None:
    library.create_entity("", station())
    clock.advance(timedelta(seconds=5))
    update = normalize_attributes({"temperature": 30, "humidity": 40}, CONTEXT)
    result = library.update_attributes("", "urn:ngsi-ld:Station:1", update, "update")
    assert result.updated == (TEMPERATURE,)
    assert [name for name, _ in result.not_updated] == [DEFAULT + "humidity"]
    entity = library.retrieve_entity("", "urn:ngsi-ld:Station:1")
    assert entity[TEMPERATURE][0]["value"] == 30
    assert entity[TEMPERATURE][0]["createdAt"] == "2026-11-21T09:00:00.000Z"
    assert entity[TEMPERATURE][0]["modifiedAt"] == "2026-11-21T09:00:05.000Z"
    assert entity["modifiedAt"] == "2026-11-21T09:00:05.000Z"
    assert DEFAULT + "humidity" not in entity

    result = library.update_attributes("", "urn:ngsi-ld:Station:1", update, "append_no_overwrite")
    assert result.updated == (DEFAULT + "humidity",)
    assert library.retrieve_entity("", "urn:ngsi-ld:Station:1")[TEMPERATURE][0]["value"] == 30
    library.update_attributes(
        "", "urn:ngsi-ld:Station:1", normalize_attributes({"temperature": 1}, CONTEXT), "append"
    )
    assert library.retrieve_entity("", "urn:ngsi-ld:Station:1")[TEMPERATURE][0]["value"] == 1
    assert [e.operation for e in bus.events] == ["create", "update", "update", "update"]  # type: ignore[attr-defined]


def test_patch_attribute_merges_members(library: ContextLibrary) -> None:
    library.create_entity("", station())
    fragment = normalize_fragment(
        {"value": 25, "observedAt": "2026-11-21T09:01:00Z"}, CONTEXT, label="temperature"
    )
    library.patch_attribute("", "urn:ngsi-ld:Station:1", TEMPERATURE, fragment)
    temperature = library.retrieve_entity("", "urn:ngsi-ld:Station:1")[TEMPERATURE][0]
    assert (temperature["value"], temperature["unitCode"]) == (25, "CEL")
    assert temperature["observedAt"] == "2026-11-21T09:01:00.000Z"
    with pytest.raises(ResourceNotFound):
        library.patch_attribute("", "urn:ngsi-ld:Station:1", DEFAULT + "missing", fragment)


def test_multi_instance_attributes_and_deletion(library: ContextLibrary, store: Store) -> None:
    speeds = {"speed": [{"value": 1}, {"value": 2, "datasetId": "urn:ngsi-ld:Dataset:gps"}]}
    library.create_entity("", station(**speeds))
    speed = DEFAULT + "speed"
    assert len(library.retrieve_entity("", "urn:ngsi-ld:Station:1")[speed]) == 2
    library.delete_attribute(
        "", "urn:ngsi-ld:Station:1", speed, dataset_id="urn:ngsi-ld:Dataset:gps"
    )
    assert [i["value"] for i in library.retrieve_entity("", "urn:ngsi-ld:Station:1")[speed]] == [1]
    with pytest.raises(ResourceNotFound):
        library.delete_attribute(
            "", "urn:ngsi-ld:Station:1", speed, dataset_id="urn:ngsi-ld:Dataset:gps"
        )
    library.delete_attribute("", "urn:ngsi-ld:Station:1", speed, delete_all=True)
    assert speed not in library.retrieve_entity("", "urn:ngsi-ld:Station:1")
    with store.connect() as conn:
        deleted = conn.execute(select(context_instance).where(context_instance.c.deleted)).all()
    assert len(deleted) == 2


def test_replace_and_delete_entity(library: ContextLibrary, store: Store) -> None:
    library.create_entity("", station())
    replacement = normalize_entity(
        {"id": "urn:ngsi-ld:Station:1", "type": ["Station", "Sensor"], "level": 3}, CONTEXT
    )
    library.replace_entity("", replacement)
    entity = library.retrieve_entity("", "urn:ngsi-ld:Station:1")
    assert set(entity) == {"id", "type", "createdAt", "modifiedAt", DEFAULT + "level"}
    assert entity["type"] == [DEFAULT + "Station", DEFAULT + "Sensor"]
    with store.connect() as conn:
        assert conn.execute(select(context_entity.c.location)).scalar() is None
    library.delete_entity("", "urn:ngsi-ld:Station:1")
    with pytest.raises(ResourceNotFound):
        library.retrieve_entity("", "urn:ngsi-ld:Station:1")
    with pytest.raises(ResourceNotFound):
        library.delete_entity("", "urn:ngsi-ld:Station:1")


def test_batches(library: ContextLibrary, bus: RecordingBus) -> None:
    created = library.create_entities("", [station(1), station(2), station(1)])
    assert created.success == ["urn:ngsi-ld:Station:1", "urn:ngsi-ld:Station:2"]
    assert [e.entity_id for e in created.errors] == ["urn:ngsi-ld:Station:1"]
    upserted = library.upsert_entities(
        "",
        [
            normalize_entity(
                {"id": f"urn:ngsi-ld:Station:{n}", "type": "Station", "temperature": n}, CONTEXT
            )
            for n in (2, 3)
        ],
        "update",
    )
    assert upserted.created == ["urn:ngsi-ld:Station:3"]
    two = library.retrieve_entity("", "urn:ngsi-ld:Station:2")
    assert two[TEMPERATURE][0]["value"] == 2 and DEFAULT + "name" in two
    library.upsert_entities(
        "",
        [
            normalize_entity(
                {"id": "urn:ngsi-ld:Station:2", "type": "Station", "temperature": 9}, CONTEXT
            )
        ],
        "replace",
    )
    assert DEFAULT + "name" not in library.retrieve_entity("", "urn:ngsi-ld:Station:2")
    updated = library.update_entities(
        "",
        [
            normalize_entity(
                {"id": f"urn:ngsi-ld:Station:{n}", "type": "Station", "temperature": 7}, CONTEXT
            )
            for n in (1, 8)
        ],
    )
    assert [e.entity_id for e in updated.errors] == ["urn:ngsi-ld:Station:8"]
    deleted = library.delete_entities("", ["urn:ngsi-ld:Station:1", "urn:ngsi-ld:Station:8"])
    assert deleted.success == ["urn:ngsi-ld:Station:1"]
    assert len(bus.events) == 2 + 2 + 1 + 1 + 1


def test_query_by_type_id_pattern_and_q(library: ContextLibrary) -> None:
    library.create_entities("", [station(n, temperature=n) for n in range(1, 6)])
    library.create_entity(
        "", normalize_entity({"id": "urn:ngsi-ld:Meter:1", "type": "Meter"}, CONTEXT)
    )
    page = library.query_entities(
        build_selection("", type_param="Station", expand=CONTEXT.expand_term), limit=2, count=True
    )
    assert [e["id"] for e in page.entities] == ["urn:ngsi-ld:Station:1", "urn:ngsi-ld:Station:2"]
    assert page.total == 5
    page = library.query_entities(
        build_selection("", id_pattern="Meter", expand=CONTEXT.expand_term), count=True
    )
    assert [e["id"] for e in page.entities] == ["urn:ngsi-ld:Meter:1"]
    page = library.query_entities(
        build_selection(
            "", type_param="Station", q_text="temperature>3", expand=CONTEXT.expand_term
        )
    )
    assert [e["id"] for e in page.entities] == ["urn:ngsi-ld:Station:4", "urn:ngsi-ld:Station:5"]
    with pytest.raises(NonexistentTenant):
        library.query_entities(build_selection("ghost", type_param="Station"))
    with pytest.raises(BadRequestData):
        library.query_entities(build_selection("", type_param="Station"), limit=-1)


def test_attribute_update_takes_four_statements(library: ContextLibrary, store: Store) -> None:
    library.create_entity("", station())
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")):
            statements.append(statement.split(None, 1)[0].upper())

    from sqlalchemy import event

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        library.update_attributes(
            "", "urn:ngsi-ld:Station:1", normalize_attributes({"temperature": 3}, CONTEXT), "update"
        )
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    # PostgreSQL's COPY of the history row does not pass through the cursor event.
    assert statements[:3] == ["SELECT", "UPDATE", "INSERT"]
    assert len(statements) <= 4


def test_location_changes_follow_the_entity_row(library: ContextLibrary, store: Store) -> None:
    library.create_entity("", station())
    moved = normalize_attributes(
        {"location": {"type": "Point", "coordinates": [10.0, 50.0]}}, CONTEXT
    )
    library.update_attributes("", "urn:ngsi-ld:Station:1", moved, "update")
    with store.connect() as conn:
        row = conn.execute(select(context_entity)).one()
    assert (row.location_west, row.location_south) == (10.0, 50.0)
    assert row.location.x == 10.0


@settings(max_examples=100, deadline=None)
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1)))
def test_sqlite_stored_instants_read_back_as_api_text(instant: datetime) -> None:
    stored = sqlite.DATETIME().bind_processor(sqlite.dialect())(instant)  # type: ignore[misc]
    assert sqlite_instant_text(stored) == format_instant(instant.replace(tzinfo=UTC))


def test_racing_creates_give_one_entity_and_already_exists(library: ContextLibrary) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def attempt(_index: int) -> str:
        try:
            library.create_entity("", station())
        except AlreadyExists:
            return "exists"
        return "created"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(attempt, range(4)))
    assert outcomes == ["created", "exists", "exists", "exists"]


def test_platform_offers_one_library(store: Store, clock: FixedClock, tmp_path: Any) -> None:
    from smartcity.kernel.config import Settings
    from smartcity.kernel.platform import Platform

    platform = Platform.open(Settings(data_dir=tmp_path), store=store, clock=clock, migrate=False)
    assert platform.context is platform.context
    platform.context.create_entity("", station())
    assert (
        platform.context.retrieve_entity("", "urn:ngsi-ld:Station:1")["createdAt"]
        == "2026-11-21T09:00:00.000Z"
    )
