"""PostgreSQL plans a batch's statements for the batch it is given, every time.

psycopg prepares a statement it ran five times on a connection; PostgreSQL may then
switch to a generic plan that cannot see how many rows the batch holds. On tables
without statistics such a plan nested-looped 5,000 × 5,000 rows (6.8 s for one
statement instead of ~30 ms).
"""

from __future__ import annotations

from typing import Any

import pytest

from smartcity.kernel.bus import open_bus
from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.storage import Store, open_store

VOCABULARY = "https://smartcity.example/test/"
READING = VOCABULARY + "reading"
# psycopg prepares after 5 runs; PostgreSQL tries 5 custom plans before a generic one.
ROUNDS = 14


def sensors(count: int, round_: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"urn:ngsi-ld:Sensor:{number}",
            "type": [VOCABULARY + "Sensor"],
            READING: [{"type": "Property", "value": round_ * 1000 + number}],
        }
        for number in range(count)
    ]


def test_batch_statements_are_never_planned_generically(store: Store, clock: FixedClock) -> None:
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL's plan cache")
    # One connection: every batch runs on the one whose prepared statements are read.
    own = open_store(store.engine.url.render_as_string(hide_password=False), pool_size=1)
    try:
        library = ContextLibrary(own, open_bus("local"), clock)
        library.upsert_entities("t", sensors(50, 0), "update")
        for round_ in range(1, ROUNDS + 1):
            assert not library.upsert_entities("t", sensors(50, round_), "update").errors
        with own.connect() as conn:
            prepared = conn.exec_driver_sql(
                "SELECT statement, generic_plans FROM pg_prepared_statements"
            ).all()
        stored = library.retrieve_entity("t", "urn:ngsi-ld:Sensor:7")
    finally:
        own.close()

    # A statement of one row's values may well be generic; one taking a batch's
    # arrays (unnest, JSON) must not.
    batches = [s for s, generic in prepared if generic and ("unnest" in s or "json" in s)]
    assert batches == []
    assert stored[READING][0]["value"] == ROUNDS * 1000 + 7
