"""Benchmark: batches of NEW entities and NEW attributes into the city information library.

    uv run python bench/context_create.py [--database-url URL] [--entities 1000]
        [--attributes 5] [--rounds 5]

Each round writes ``entities`` entities never seen before, ``attributes`` numeric
Properties each, through ``ContextLibrary.upsert_entities`` (``created``: every row is
new: the entity, its type, its attribute rows, its history series and rows), replaces
them (``replaced``: new attribute and history rows, the entity rows updated), then gives
``entities`` known entities, stored without attributes, ``attributes`` new ones each
(``added``: what the first MQTT batch of freshly provisioned devices writes). The same
``context_attribute`` rows of a third set of entities are then written by a raw
driver-level ``executemany`` (``INSERT … ON CONFLICT DO UPDATE``, values prepared
beforehand) and, on PostgreSQL, by ``COPY``: the baselines of the database's own
speed in the same minutes. Figures are medians; CPU per 10,000 attributes is this
process's (``*_cpu_ms_per_10k``) and, on PostgreSQL, the database backends'
(``*_server_cpu_ms_per_10k``, see ``bench/context_batch.py``). Writes
``bench/results/context_create.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import delete

sys.path.insert(0, str(Path(__file__).resolve().parent))

from context_batch import (
    ATTRIBUTE_COLUMNS,
    _batch,
    _raw_rows,
    _raw_statement,
    _server_ms,
    _server_ticks,
)
from smartcity.kernel.bus import open_bus
from smartcity.kernel.clock import RealClock
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.series import in_series
from smartcity.kernel.context.tables import context_entity, context_instance
from smartcity.kernel.storage import Store, open_store
from smartcity.kernel.storage.driver import driver_of

RESULTS = Path(__file__).resolve().parent / "results" / "context_create.json"


def _fresh(entities: int, attributes: int, round_: int, label: str) -> list[dict[str, Any]]:
    """``_batch``'s entities under ids of their own (``label`` and the round)."""
    batch = _batch(entities, attributes, round_)
    # The raw rows of the baselines name their entity by this id too (``_raw_rows``).
    for entity in batch:
        entity["id"] = f"{entity['id']}:{label}{round_}"
    return batch


def _measured(store: Store, count: int, write: Callable[[], None]) -> tuple[float, float, float]:
    """Rate, process CPU and server CPU (ms per 10,000; NaN where unreadable) of ``write``."""
    ticks = _server_ticks(store)
    started, cpu = time.perf_counter(), time.process_time()
    write()
    rate = count / (time.perf_counter() - started)
    spent = (time.process_time() - cpu) * 1000 * 10_000 / count
    server = _server_ms(ticks, _server_ticks(store), count)
    return rate, spent, float("nan") if server is None else server


def _copy(store: Store, rows: list[tuple[Any, ...]]) -> None:
    with store.begin() as conn:
        driver = driver_of(conn)
        columns = ", ".join(ATTRIBUTE_COLUMNS)
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY context_attribute ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)


def bench_create(
    database_url: str, *, entities: int = 1000, attributes: int = 5, rounds: int = 5
) -> dict[str, float]:
    """New entities and new attributes per second, and the raw baselines of the same rows."""
    store = open_store(database_url)
    store.migrate()
    tenant = f"bench-create-{uuid.uuid4().hex[:12]}"
    library = ContextLibrary(store, open_bus("local"), RealClock())
    count = entities * attributes
    sql = _raw_statement(store.dialect)
    figures: dict[str, list[tuple[float, float, float]]] = {}

    def record(name: str, measured: tuple[float, float, float]) -> None:
        figures.setdefault(name, []).append(measured)

    try:
        for round_ in range(1, rounds + 1):
            created = _fresh(entities, attributes, round_, "c")
            record(
                "created",
                _measured(store, count, lambda b=created: _upsert(library, tenant, b)),
            )
            # The same entities replaced (``mode=replace``): every attribute row written
            # anew, the entity rows updated.
            again = _fresh(entities, attributes, round_ + 100, "c")
            for entity in again:
                entity["id"] = entity["id"].replace(f":c{round_ + 100}", f":c{round_}")
            record(
                "replaced",
                _measured(store, count, lambda b=again: _upsert(library, tenant, b, "replace")),
            )
            for label in "ark":
                # Stored without attributes: the rows the writes below add need them.
                _upsert(library, tenant, _fresh(entities, 0, round_, label))
            added = _fresh(entities, attributes, round_, "a")
            record("added", _measured(store, count, lambda b=added: _upsert(library, tenant, b)))
            with store.begin() as conn:
                rows = _raw_rows(tenant, _fresh(entities, attributes, round_, "r"), conn.dialect)

            def raw(rows: list[tuple[Any, ...]] = rows) -> None:
                with store.begin() as conn:
                    conn.exec_driver_sql(sql, rows)  # type: ignore[arg-type]

            record("raw_executemany", _measured(store, count, raw))
            if store.dialect == "postgresql":
                with store.begin() as conn:
                    rows = _raw_rows(
                        tenant, _fresh(entities, attributes, round_, "k"), conn.dialect
                    )
                record("raw_copy", _measured(store, count, lambda r=rows: _copy(store, r)))
    finally:
        with store.begin() as conn:
            conn.execute(delete(context_instance).where(in_series(tenant)))
            conn.execute(delete(context_entity).where(context_entity.c.tenant == tenant))
        store.close()
    result: dict[str, float] = {"entities": entities, "attributes": attributes}
    for name, runs in figures.items():
        rates, cpu, server = zip(*runs, strict=True)
        result[f"{name}_attributes_per_s"] = round(statistics.median(rates))
        result[f"{name}_cpu_ms_per_10k"] = round(statistics.median(cpu), 1)
        if store.dialect == "postgresql":
            result[f"{name}_server_cpu_ms_per_10k"] = round(statistics.median(server), 1)
    result["created_entities_per_s"] = round(result["created_attributes_per_s"] / attributes)
    return result


def _upsert(
    library: ContextLibrary, tenant: str, batch: list[dict[str, Any]], mode: str = "update"
) -> None:
    outcome = library.upsert_entities(tenant, batch, mode)  # type: ignore[arg-type]
    if outcome.errors:
        raise RuntimeError(f"the batch failed: {outcome.errors[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--attributes", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    url = options.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'create.db'}"
    figures = bench_create(
        url, entities=options.entities, attributes=options.attributes, rounds=options.rounds
    )
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
