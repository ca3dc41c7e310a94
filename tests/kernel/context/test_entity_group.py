"""Single-entity writes queued together run as one group, each keeping its own outcome."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context import entities, entity_group
from smartcity.kernel.context.changes import Changes
from smartcity.kernel.context.errors import BadRequestData, NonexistentTenant, ResourceNotFound
from smartcity.kernel.context.events import EntityChanged
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.model import Entity
from smartcity.kernel.context.normalize import normalize_attributes, normalize_fragment
from smartcity.kernel.context.reads import load_entity
from smartcity.kernel.context.tables import context_instance, context_series
from smartcity.kernel.storage import Store
from tests.kernel.context.test_entities_fakes import DEFAULT
from tests.kernel.context.test_entities_library import (
    CONTEXT,
    LOCATION,
    TEMPERATURE,
    RecordingBus,
    station,
)

STATION = "urn:ngsi-ld:Station:{}"
NAME = DEFAULT + "name"
OBSERVED = "2026-11-21T09:01:02.123456Z"
TEXT = 'a "quoted" \\ name, 站二\n'


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
def library(store: Store, bus: RecordingBus, clock: FixedClock) -> ContextLibrary:
    return ContextLibrary(store, bus, clock)  # type: ignore[arg-type]


@pytest.fixture
def group_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every group that ran together."""
    sizes: list[int] = []
    real = entity_group.run_entity_writes

    def spy(conn: Any, items: Sequence[Any]) -> list[tuple[bool, Any]]:
        sizes.append(len(items))
        return real(conn, items)

    monkeypatch.setattr(entity_group, "run_entity_writes", spy)
    return sizes


def fragment(value: Any, **members: Any) -> dict[str, Any]:
    return normalize_fragment({"value": value, **members}, CONTEXT, label="temperature")


def name_fragment(value: str) -> dict[str, Any]:
    return normalize_fragment({"value": value}, CONTEXT, label="name")


def in_one_group(
    library: ContextLibrary, calls: Sequence[Callable[[], Awaitable[Any]]]
) -> list[Any]:
    """Run ``calls`` queued behind a write that holds the store's writer, then release it.

    The held write is a single-entity write too (it goes through the writer on every
    backend); everything queued meanwhile runs as the next group.
    """

    async def scenario() -> list[Any]:
        started, release = threading.Event(), threading.Event()

        def hold(_existing: Entity, _changes: Changes) -> None:
            started.set()
            release.wait(10)

        held = asyncio.ensure_future(
            entities.run_async(
                library.services, "", entities.EntityWork("", STATION.format(1), hold)
            )
        )
        await asyncio.to_thread(started.wait, 10)
        queued = [asyncio.ensure_future(call()) for call in calls]
        await asyncio.sleep(0.05)  # every call reaches the writer's queue
        release.set()
        await held
        return list(await asyncio.gather(*queued, return_exceptions=True))

    return asyncio.run(scenario())


def history(store: Store, entity_id: str) -> list[Any]:
    """The entity's temperature history values, in the order recorded."""
    with store.connect() as conn:
        return list(
            conn.execute(
                select(context_instance.c.value_number)
                .join(context_series, context_series.c.id == context_instance.c.series_id)
                .where(
                    context_series.c.entity_id == entity_id,
                    context_series.c.name == TEMPERATURE,
                )
                .order_by(context_instance.c.seq)
            ).scalars()
        )


def temperature(library: ContextLibrary, number: int) -> Any:
    return library.retrieve_entity("", STATION.format(number))[TEMPERATURE][0]["value"]


def test_a_missing_entity_or_attribute_fails_alone(
    library: ContextLibrary, store: Store, bus: RecordingBus, group_sizes: list[int]
) -> None:
    for number in (1, 2, 3):
        library.create_entity("", station(number))
    bus.events.clear()
    patch = library.patch_attribute_async
    outcomes = in_one_group(
        library,
        [
            lambda: patch("", STATION.format(2), TEMPERATURE, fragment(30)),
            lambda: patch("", STATION.format(9), TEMPERATURE, fragment(31)),
            lambda: patch("", STATION.format(3), DEFAULT + "missing", fragment(32)),
            lambda: patch("", STATION.format(3), TEMPERATURE, {"type": "Relationship"}),
            lambda: patch("", STATION.format(3), TEMPERATURE, fragment(33)),
        ],
    )
    assert group_sizes[-1] == 5
    assert outcomes[0] is None and outcomes[4] is None
    assert isinstance(outcomes[1], ResourceNotFound)
    assert str(outcomes[1]) == f"entity {STATION.format(9)} does not exist"
    assert isinstance(outcomes[2], ResourceNotFound)
    assert "has no attribute" in str(outcomes[2])
    assert isinstance(outcomes[3], BadRequestData)
    assert (temperature(library, 2), temperature(library, 3)) == (30, 33)
    assert history(store, STATION.format(2))[-1] == 30
    assert history(store, STATION.format(3)) == [21.5, 33]
    changed = [e for e in bus.events if isinstance(e, EntityChanged)]
    # The held write changed nothing; then one event per committed write, in order.
    assert [e.entity_id for e in changed] == [STATION.format(2), STATION.format(3)]


def test_two_writes_of_one_entity_keep_both_history_rows_and_the_last_value(
    library: ContextLibrary, store: Store, bus: RecordingBus, group_sizes: list[int]
) -> None:
    library.create_entity("", station(1))
    library.create_entity("", station(2))
    bus.events.clear()
    patch = library.patch_attribute_async
    moved = normalize_fragment(
        {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [114.0, 22.5]}},
        CONTEXT,
        label="location",
    )
    outcomes = in_one_group(
        library,
        [
            lambda: library.update_attributes_async(
                "", STATION.format(2), normalize_attributes({"temperature": 1}, CONTEXT), "update"
            ),
            lambda: patch("", STATION.format(2), LOCATION, moved),
            lambda: patch("", STATION.format(2), TEMPERATURE, fragment(2, unitCode="FAH")),
            lambda: patch("", STATION.format(2), TEMPERATURE, fragment(3, observedAt=OBSERVED)),
            lambda: patch("", STATION.format(1), NAME, name_fragment(TEXT)),
        ],
    )
    assert group_sizes[-1] == 5
    assert outcomes[0].updated == (TEMPERATURE,)
    assert outcomes[1:] == [None, None, None, None]
    stored = library.retrieve_entity("", STATION.format(2))
    current = stored[TEMPERATURE][0]
    # Each write merged onto the one before it: the unit of the first stays.
    assert (current["value"], current["unitCode"]) == (3, "FAH")
    assert current["observedAt"] == OBSERVED
    assert library.retrieve_entity("", STATION.format(1))[NAME][0]["value"] == TEXT
    with store.connect() as conn:
        observed = conn.execute(
            select(context_instance.c.observed_at).order_by(context_instance.c.seq.desc())
        ).scalars()
        assert next(observed) is None  # the name's history row
        assert next(observed) == datetime(2026, 11, 21, 9, 1, 2, 123456, tzinfo=UTC)
    assert stored[LOCATION][0]["value"]["coordinates"] == [114.0, 22.5]
    assert history(store, STATION.format(2)) == [21.5, 1, 2, 3]
    changed = [e for e in bus.events if isinstance(e, EntityChanged)]
    assert [e.attributes for e in changed] == [
        (TEMPERATURE,),
        (LOCATION,),
        (TEMPERATURE,),
        (TEMPERATURE,),
        (NAME,),
    ]
    assert changed[1].entity[LOCATION][0]["value"]["coordinates"] == [114.0, 22.5]
    assert [e.entity[TEMPERATURE][0]["value"] for e in changed] == [1, 1, 2, 3, 21.5]


def test_a_database_failure_runs_each_write_alone(
    library: ContextLibrary,
    store: Store,
    bus: RecordingBus,
    group_sizes: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for number in (1, 2, 3):
        library.create_entity("", station(number))
    bus.events.clear()
    failures: list[int] = []
    if store.dialect == "postgresql":
        # The group's rows go as one statement that commits alone (or, in a longer
        # transaction, with it): the database refuses that statement, nothing is stored.
        real_group = entity_group.group_statement

        def refuse_once(conn: Any, touches: Any, attributes: Any, instances: Any) -> Any:
            sql, parameters = real_group(conn, touches, attributes, instances)
            if not failures:
                failures.append(len(instances))
                sql = sql.replace("context_instance", "context_instance_missing", 1)
            return sql, parameters

        monkeypatch.setattr(entity_group, "group_statement", refuse_once)
    else:
        real = entity_group.apply_group

        def fail_once(conn: Any, group: Sequence[Changes], store: Store) -> None:
            real(conn, group, store)  # the rows are sent, then the database refuses
            if not failures and len(group) > 1:  # not the held write's group of one
                failures.append(len(group))
                raise DBAPIError("INSERT", None, Exception("the database went away"))

        monkeypatch.setattr(entity_group, "apply_group", fail_once)
    patch = library.patch_attribute_async
    outcomes = in_one_group(
        library,
        [
            lambda: patch("", STATION.format(2), TEMPERATURE, fragment(40)),
            lambda: patch("", STATION.format(3), TEMPERATURE, fragment(41)),
            lambda: patch("", STATION.format(9), TEMPERATURE, fragment(42)),
            lambda: patch("", STATION.format(3), TEMPERATURE, fragment(43)),
        ],
    )
    assert group_sizes[-1] == 4 and failures == [3]
    assert outcomes[:2] == [None, None] and outcomes[3] is None
    assert isinstance(outcomes[2], ResourceNotFound)
    # The group's rows were rolled back: one history row per write that committed.
    assert history(store, STATION.format(2)) == [21.5, 40]
    assert history(store, STATION.format(3)) == [21.5, 41, 43]
    assert temperature(library, 3) == 43
    changed = [e for e in bus.events if isinstance(e, EntityChanged)]
    assert [e.entity_id for e in changed] == [STATION.format(n) for n in (2, 3, 3)]


def test_tenants_in_one_group_stay_apart(library: ContextLibrary, group_sizes: list[int]) -> None:
    library.create_entity("", station(1))
    library.create_entity("", station(2))
    library.create_entity("city", station(2))
    patch = library.patch_attribute_async
    outcomes = in_one_group(
        library,
        [
            lambda: patch("city", STATION.format(2), TEMPERATURE, fragment(50)),
            lambda: patch("", STATION.format(2), TEMPERATURE, fragment(51)),
            lambda: patch("nowhere", STATION.format(2), TEMPERATURE, fragment(52)),
            lambda: patch("city", STATION.format(1), TEMPERATURE, fragment(53)),
        ],
    )
    assert group_sizes[-1] == 4
    assert outcomes[:2] == [None, None]
    assert isinstance(outcomes[2], NonexistentTenant)
    assert isinstance(outcomes[3], ResourceNotFound)
    assert library.retrieve_entity("city", STATION.format(2))[TEMPERATURE][0]["value"] == 50
    assert temperature(library, 2) == 51


def test_an_observed_instant_with_an_offset_is_kept_as_the_same_instant(
    library: ContextLibrary, store: Store, group_sizes: list[int]
) -> None:
    library.create_entity("", station(1))
    library.create_entity("", station(2))
    patch = library.patch_attribute_async
    in_one_group(
        library,
        [
            lambda: patch("", STATION.format(1), TEMPERATURE, fragment(4, observedAt=OBSERVED)),
            lambda: patch(
                "",
                STATION.format(2),
                TEMPERATURE,
                fragment(5, observedAt="2026-11-21T17:01:02.123456+08:00"),
            ),
        ],
    )
    assert group_sizes[-1] == 2
    with store.connect() as conn:
        observed = conn.execute(
            select(context_instance.c.observed_at).order_by(context_instance.c.seq.desc())
        ).scalars()
        at = datetime(2026, 11, 21, 9, 1, 2, 123456, tzinfo=UTC)
        assert [next(observed), next(observed)] == [at, at]


def test_the_group_read_matches_the_single_read(library: ContextLibrary, store: Store) -> None:
    odd = FixedClock(datetime(2026, 11, 21, 9, 0, 0, 123456, tzinfo=UTC))
    speeds = [
        {"type": "Property", "value": 3},
        {"type": "Property", "value": 4, "datasetId": "urn:ngsi-ld:d:1"},
    ]
    ContextLibrary(store, RecordingBus(), odd).create_entity(  # type: ignore[arg-type]
        "", station(1, speed=speeds)
    )
    library.create_entity("", station(2, type=["Station", "Sensor", "Device"]))
    keys = [("", STATION.format(1)), ("", STATION.format(2)), ("", STATION.format(3))]
    with store.begin() as conn:
        grouped = entity_group.load_group(conn, keys)
        single = {key: load_entity(conn, *key) for key in keys}
    assert grouped == {key: entity for key, entity in single.items() if entity is not None}
    assert grouped["", STATION.format(1)]["createdAt"] == "2026-11-21T09:00:00.123456Z"


class TickingClock(FixedClock):
    """Each reading a millisecond after the one before."""

    def now(self) -> datetime:
        return self.advance(timedelta(milliseconds=1))


def test_the_entity_keeps_the_last_writes_modified_at(store: Store, group_sizes: list[int]) -> None:
    bus = RecordingBus()
    library = ContextLibrary(store, bus, TickingClock(datetime(2026, 11, 21, 9, tzinfo=UTC)))  # type: ignore[arg-type]
    library.create_entity("", station(1))
    library.create_entity("", station(2))
    moved = normalize_fragment(
        {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [114.0, 22.5]}},
        CONTEXT,
        label="location",
    )
    patch = library.patch_attribute_async
    in_one_group(
        library,
        [
            lambda: patch("", STATION.format(2), TEMPERATURE, fragment(1)),
            lambda: patch("", STATION.format(2), LOCATION, moved),
            lambda: patch("", STATION.format(1), TEMPERATURE, fragment(2)),
            lambda: patch("", STATION.format(1), LOCATION, moved),
            lambda: patch("", STATION.format(1), TEMPERATURE, fragment(3)),
        ],
    )
    assert group_sizes[-1] == 5
    last = {e.entity_id: e.entity for e in bus.events if isinstance(e, EntityChanged)}
    for number in (1, 2):
        stored = library.retrieve_entity("", STATION.format(number))
        assert stored["modifiedAt"] == last[STATION.format(number)]["modifiedAt"]
        assert (
            stored[TEMPERATURE][0]["modifiedAt"]
            == last[STATION.format(number)][TEMPERATURE][0]["modifiedAt"]
        )


def test_postgres_groups_keep_one_connection_and_commit_their_one_statement(
    library: ContextLibrary, store: Store, group_sizes: list[int]
) -> None:
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL's writer connection")
    from sqlalchemy import event

    for number in (1, 2, 3):
        library.create_entity("", station(number))
    checkouts: list[object] = []

    def checkout(*args: Any) -> None:
        checkouts.append(args[0])

    patch = library.patch_attribute_async
    for round_ in range(7):  # enough for psycopg to prepare the group's statements
        outcomes = in_one_group(
            library,
            [
                lambda r=round_: patch("", STATION.format(2), TEMPERATURE, fragment(r)),
                lambda r=round_: patch("", STATION.format(3), TEMPERATURE, fragment(r + 100)),
            ],
        )
        assert outcomes == [None, None]
        if round_ == 0:  # the writer has its connection from here on
            event.listen(store.engine, "checkout", checkout)
    event.remove(store.engine, "checkout", checkout)
    assert group_sizes[-1] == 2
    # Every group ran on the writer's one kept connection, left outside a transaction
    # and not committing each statement (the next transaction on it must be one).
    assert checkouts == []
    held = store._kept.connection  # type: ignore[attr-defined]
    driver = held.connection.driver_connection
    assert not driver.autocommit and driver.info.transaction_status == 0
    assert history(store, STATION.format(2)) == [21.5, *range(7)]
    assert history(store, STATION.format(3)) == [21.5, *range(100, 107)]
    # The group's read and write are prepared, planned once (generic), never rolled back.
    plans = driver.execute(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
    ).fetchall()
    driver.rollback()
    written = [p for p in plans if "WITH touched AS" in p[0]]
    assert written and all(p[2] == 0 and p[1] >= 1 for p in written)
