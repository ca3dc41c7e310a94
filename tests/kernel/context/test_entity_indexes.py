"""The first batch of a fresh database checks its foreign keys by the primary key.

Each new attribute or type row's foreign key is checked by ``SELECT 1 FROM
context_entity WHERE tenant = $1 AND id = $2``, planned once per connection. On a table
never analyzed the planner estimates one row for a tenant, and took any smaller index
leading with the tenant over the primary key: every entity of the tenant read per check.
``context_entity``'s other indexes leading with the tenant are partial on PostgreSQL
(decision 0014, addendum of session 10), so no plan reads a tenant alone from them,
and the write path needs no ANALYZE of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, select

from smartcity.kernel.bus import open_bus
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.tables import context_attribute, context_entity_type
from smartcity.kernel.storage import Store

VOCABULARY = "https://smartcity.example/test/"
DEVICE = VOCABULARY + "Device"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"

# A copy of ``context_entity`` with its indexes that no ANALYZE has seen, holding one
# tenant's entities (as on a fresh database after provisioning).
FRESH_COPY = (
    "CREATE TEMP TABLE fresh_entity (LIKE context_entity INCLUDING INDEXES) ON COMMIT DROP",
    "INSERT INTO fresh_entity (tenant, id, type, created_at, modified_at, location_west, "
    "location_east, location_south, location_north, location_cell) "
    "SELECT 't' || (g %% 3), 'urn:ngsi-ld:Device:' || g, 'Type' || (g %% 20), now(), now(), "
    "116 + g * 1e-5, 116.0001 + g * 1e-5, 39 + g * 1e-5, 39.0001 + g * 1e-5, g %% 500 "
    "FROM generate_series(1, %(count)s) AS g",
)


def _plan(conn: Connection, sql: str, parameters: dict[str, Any]) -> str:
    rows = conn.exec_driver_sql("EXPLAIN " + sql, parameters).scalars()
    return "\n".join(rows)


@pytest.fixture
def fresh(store: Store) -> Iterator[Connection]:
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL's planner")
    with store.begin() as conn:
        yield conn


def test_a_foreign_key_check_on_a_table_never_analyzed_reads_the_primary_key(
    fresh: Connection,
) -> None:
    for statement in FRESH_COPY:
        fresh.exec_driver_sql(statement, {"count": 3000})
    # The foreign-key check's query as PostgreSQL's referential triggers write it.
    plan = _plan(
        fresh,
        "SELECT 1 FROM ONLY fresh_entity x WHERE tenant = %(tenant)s AND id = %(id)s "
        "FOR KEY SHARE OF x",
        {"tenant": "t1", "id": "urn:ngsi-ld:Device:4"},
    )
    assert "fresh_entity_pkey" in plan, plan


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        ("SELECT id FROM fresh_entity WHERE tenant = %(t)s AND type IN (%(a)s, %(b)s)", "type"),
        ("SELECT id FROM fresh_entity WHERE tenant = %(t)s AND type = ANY(%(types)s)", "type"),
        (
            "SELECT id FROM fresh_entity WHERE tenant = %(t)s AND location_cell IN (%(c)s, %(d)s)",
            "location_cell",
        ),
        (
            "SELECT id FROM fresh_entity WHERE tenant = %(t)s AND location_west <= %(e)s "
            "AND location_east >= %(w)s AND location_west >= %(w)s - 0.01 "
            "AND location_south <= %(n)s AND location_north >= %(s)s",
            "location_west",
        ),
        (
            "SELECT max(location_east - location_west) FROM fresh_entity WHERE tenant = %(t)s",
            "expr",
        ),
    ],
)
def test_the_partial_indexes_still_serve_their_readers(
    fresh: Connection, sql: str, index: str
) -> None:
    for statement in FRESH_COPY:
        fresh.exec_driver_sql(statement, {"count": 20000})
    fresh.exec_driver_sql("ANALYZE fresh_entity")
    fresh.exec_driver_sql("SET LOCAL enable_seqscan = off")
    fresh.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    parameters = {
        "t": "t1",
        "a": "Type3",
        "b": "Type4",
        "types": ["Type3", "Type4"],
        "c": 4,
        "d": 5,
        "w": 116.05,
        "e": 116.06,
        "s": 39.05,
        "n": 39.06,
    }
    plan = _plan(fresh, sql, parameters)
    assert f"fresh_entity_tenant_{index}" in plan, plan


def test_a_fresh_tenants_first_batches_send_no_analyze(store: Store, clock: FixedClock) -> None:
    """New devices, then their first readings (every attribute new): both batches
    commit, and the write path asks nothing of the statistics."""
    library = ContextLibrary(store, open_bus("local"), clock)
    devices = [
        {
            "id": f"urn:ngsi-ld:Device:{n}",
            "type": [DEVICE],
            LOCATION: [
                {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.3, 39.9]}}
            ],
        }
        for n in range(300)
    ]
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        assert not library.create_entities("fresh", devices).errors
        readings = [
            {
                "id": device["id"],
                "type": [DEVICE, VOCABULARY + "Meter"],
                **{VOCABULARY + f"m{k}": [{"type": "Property", "value": k}] for k in range(5)},
            }
            for device in devices
        ]
        assert not library.upsert_entities("fresh", readings, "update").errors
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert not [s for s in sent if "ANALYZE" in s.upper() or "pg_class" in s]
    with store.begin() as conn:
        attributes = conn.execute(
            select(func.count()).where(context_attribute.c.tenant == "fresh")
        ).scalar()
        types = conn.execute(
            select(func.count()).where(context_entity_type.c.tenant == "fresh")
        ).scalar()
    assert attributes == 300 * 6  # the location and five readings
    assert types == 300 * 2
