"""PostgreSQL: a single-entity write's rows go in one pipelined round trip."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.exc import IntegrityError

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.normalize import normalize_attributes
from smartcity.kernel.context.pipeline import Pipeline
from smartcity.kernel.context.tables import context_attribute, context_instance
from smartcity.kernel.storage import Store
from tests.kernel.context.test_entities_library import CONTEXT, RecordingBus, station


@pytest.fixture
def postgres(store: Store) -> Store:
    if store.dialect != "postgresql":
        pytest.skip("psycopg's pipeline mode")
    return store


@pytest.fixture
def library(postgres: Store, clock: FixedClock) -> ContextLibrary:
    return ContextLibrary(postgres, RecordingBus(), clock)  # type: ignore[arg-type]


def test_an_attribute_update_waits_for_the_server_four_times(
    library: ContextLibrary, postgres: Store
) -> None:
    library.create_entity("", station())
    with tempfile.TemporaryFile("w+") as trace:

        def start_tracing(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
            dbapi_connection.pgconn.trace(trace.fileno())

        def stop_tracing(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.pgconn.untrace()

        event.listen(postgres.engine, "checkout", start_tracing)
        event.listen(postgres.engine, "checkin", stop_tracing)
        try:
            library.update_attributes(
                "",
                "urn:ngsi-ld:Station:1",
                normalize_attributes({"temperature": 4}, CONTEXT),
                "update",
            )
        finally:
            event.remove(postgres.engine, "checkout", start_tracing)
            event.remove(postgres.engine, "checkin", stop_tracing)
        trace.seek(0)
        sent = [line.split("\t") for line in trace.read().splitlines()]
    with postgres.connect() as conn:
        stored = conn.execute(select(context_attribute.c.value_number)).scalars().all()
        history = conn.execute(select(context_instance.c.value_number)).scalars().all()
    assert 4 in stored
    assert 4 in history
    # Each wait for the server ends a simple Query or an extended-protocol Sync.
    waits = [fields for fields in sent if len(fields) > 3 and fields[1] == "F"]
    waits = [fields for fields in waits if fields[3].startswith(("Query", "Sync"))]
    # BEGIN, the entity's read, the three rows (entity, attribute, history), COMMIT.
    assert len(waits) == 4


def test_a_violated_constraint_is_an_integrity_error(postgres: Store) -> None:
    row = {
        "tenant": "",
        "entity_id": "urn:ngsi-ld:Station:missing",
        "name": "https://example.org/temperature",
        "dataset_id": "",
        "entity_type": "Station",
        "kind": "Property",
        "value_number": 1.0,
        "value_text": None,
        "value_bool": None,
        "value_json": "{}",
        "observed_at": None,
        "unit_code": None,
        "created_at": None,
        "modified_at": None,
    }
    with pytest.raises(IntegrityError), postgres.begin() as conn:
        pipeline = Pipeline(conn)
        pipeline.add(insert(context_attribute), [row])
        pipeline.send()
