"""Benchmark: batch upsert (``options=update``) of the city information library.

    uv run python bench/context_batch.py [--database-url URL] [--entities 1000] [--attributes 10]
        [--rounds 10] [--repeated 0.0] [--history-rounds 0]

``bench/context.py`` calls :func:`bench_batch_upsert`. Each round upserts ``entities``
known entities with ``attributes`` changed attribute values each through
``ContextLibrary.upsert_entities(mode="update")`` (history rows, events and all), then
writes the very same ``context_attribute`` rows with a raw driver-level executemany
(``INSERT ... ON CONFLICT DO UPDATE``, values prepared beforehand) in the same database,
so the fraction of raw speed is measured under the same load. Figures are medians.

``--repeated F`` makes that fraction of the values equal to the ones stored (live
readings often repeat: a parking spot stays taken); ``--history-rounds N`` writes N
more rounds before measuring, so that each attribute's history is N rounds deeper
(each batch adds one history row to every series of the batch).

Rates move with the machine's load; the process CPU per 10,000 updates
(``*_cpu_ms_per_10k``: every thread of this process, so the store's writer and
checkpointer threads too, but not a PostgreSQL server) and its ratio move much less.
On PostgreSQL ``*_server_cpu_ms_per_10k`` adds the CPU of this database's backends
(``/proc/<pid>/stat`` of the ``pg_stat_activity`` pids: a server on this machine, and
nothing else using the database meanwhile).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import delete

from smartcity.kernel.bus import open_bus
from smartcity.kernel.clock import RealClock
from smartcity.kernel.context.library import ContextLibrary
from smartcity.kernel.context.series import in_series
from smartcity.kernel.context.tables import context_attribute, context_entity, context_instance
from smartcity.kernel.storage import open_store
from smartcity.kernel.storage.base import bind_processors

RESULTS = Path(__file__).resolve().parent / "results" / "context_batch.json"
VOCABULARY = "https://smartcity.example/bench/"
PROPERTY = "Property"


def _batch(
    entities: int, attributes: int, round_: int, repeated: float = 0.0
) -> list[dict[str, Any]]:
    """Normalized, expanded entities: ``attributes`` numeric Properties each.

    A ``repeated`` fraction of the values (the same ones every round) keeps the value
    of round 0; the others change every round.
    """
    observed = f"2026-11-21T09:{round_ % 60:02d}:00Z"
    kept = round(repeated * 100)
    return [
        {
            "id": f"urn:ngsi-ld:BenchSensor:{n:06d}",
            "type": [VOCABULARY + "BenchSensor"],
            **{
                f"{VOCABULARY}a{k}": [
                    {
                        "type": PROPERTY,
                        "value": (0 if (n * attributes + k) % 100 < kept else round_ * 100)
                        + k
                        + n % 7,
                        "observedAt": observed,
                    }
                ]
                for k in range(attributes)
            },
        }
        for n in range(entities)
    ]


ATTRIBUTE_COLUMNS = (
    "tenant",
    "entity_id",
    "name",
    "dataset_id",
    "entity_type",
    "kind",
    "value_number",
    "value_text",
    "value_bool",
    "value_json",
    "observed_at",
    "unit_code",
    "created_at",
    "modified_at",
)
UPDATED = (*ATTRIBUTE_COLUMNS[4:12], "modified_at")


def _raw_statement(dialect: str) -> str:
    names = ", ".join(ATTRIBUTE_COLUMNS)
    marks = ", ".join("?" if dialect == "sqlite" else "%s" for _ in ATTRIBUTE_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in UPDATED)
    return (
        f"INSERT INTO context_attribute ({names}) VALUES ({marks}) "
        f"ON CONFLICT (tenant, entity_id, name, dataset_id) DO UPDATE SET {updates}"
    )


def _raw_rows(tenant: str, batch: list[dict[str, Any]], dialect: Any) -> list[tuple[Any, ...]]:
    """The ``context_attribute`` rows the library writes for ``batch``, as driver values."""
    now = RealClock().now()
    processors = bind_processors(context_attribute, ATTRIBUTE_COLUMNS, dialect)
    rows: list[tuple[Any, ...]] = []
    for entity in batch:
        for name, instances in entity.items():
            if name in ("id", "type"):
                continue
            for instance in instances:
                values = (
                    tenant,
                    entity["id"],
                    name,
                    "",
                    entity["type"][0],
                    instance["type"],
                    float(instance["value"]),
                    None,
                    None,
                    orjson.dumps(instance).decode(),
                    now,
                    None,
                    now,
                    now,
                )
                rows.append(
                    tuple(p(v) if p else v for v, p in zip(values, processors, strict=True))
                )
    return rows


def _server_ticks(store: Any) -> int | None:
    """CPU clock ticks so far of the backends of this database; None where unreadable
    (SQLite, a remote server)."""
    if store.dialect != "postgresql":
        return None
    with store.connect() as conn:
        pids = conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend'"
        ).scalars()
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            # utime and stime: fields 14 and 15 of stat(5), 12 and 13 after the name.
            ticks += int(fields[11]) + int(fields[12])
    return ticks


def _server_ms(before: int | None, after: int | None, count: int) -> float | None:
    if before is None or after is None:
        return None
    return (after - before) * 1000 / os.sysconf("SC_CLK_TCK") * 10_000 / count


def bench_batch_upsert(
    database_url: str,
    *,
    entities: int = 1000,
    attributes: int = 10,
    rounds: int = 10,
    repeated: float = 0.0,
    history_rounds: int = 0,
) -> dict[str, float]:
    """Attribute updates per second of a batch upsert, of a raw executemany, and their ratio."""
    store = open_store(database_url)
    store.migrate()
    tenant = f"bench-batch-{uuid.uuid4().hex[:12]}"
    library = ContextLibrary(store, open_bus("local"), RealClock())
    count = entities * attributes
    library.upsert_entities(tenant, _batch(entities, attributes, 0), "update")
    for round_ in range(rounds + 1, rounds + 1 + history_rounds):
        library.upsert_entities(tenant, _batch(entities, attributes, round_, repeated), "update")
    sql = _raw_statement(store.dialect)
    library_rates: list[float] = []
    raw_rates: list[float] = []
    library_cpu: list[float] = []
    raw_cpu: list[float] = []
    library_server: list[float] = []
    raw_server: list[float] = []
    try:
        for round_ in range(1, rounds + 1):
            batch = _batch(entities, attributes, round_, repeated)
            ticks = _server_ticks(store)
            started, cpu = time.perf_counter(), time.process_time()
            result = library.upsert_entities(tenant, batch, "update")
            library_rates.append(count / (time.perf_counter() - started))
            library_cpu.append((time.process_time() - cpu) * 1000 * 10_000 / count)
            server = _server_ms(ticks, _server_ticks(store), count)
            if server is not None:
                library_server.append(server)
            if result.errors:
                raise RuntimeError(f"the batch upsert failed: {result.errors[0]}")
            with store.begin() as conn:
                rows = _raw_rows(
                    tenant, _batch(entities, attributes, -round_, repeated), conn.dialect
                )
            ticks = _server_ticks(store)
            started, cpu = time.perf_counter(), time.process_time()
            with store.begin() as conn:
                conn.exec_driver_sql(sql, rows)  # type: ignore[arg-type]
            raw_rates.append(count / (time.perf_counter() - started))
            raw_cpu.append((time.process_time() - cpu) * 1000 * 10_000 / count)
            server = _server_ms(ticks, _server_ticks(store), count)
            if server is not None:
                raw_server.append(server)
    finally:
        with store.begin() as conn:
            # History rows name their tenant through their series (decision 0016).
            conn.execute(delete(context_instance).where(in_series(tenant)))
            conn.execute(delete(context_entity).where(context_entity.c.tenant == tenant))
        store.close()
    library_rate = statistics.median(library_rates)
    raw_rate = statistics.median(raw_rates)
    figures = {
        "batch_upsert_attr_updates_per_s": round(library_rate),
        "raw_executemany_attr_updates_per_s": round(raw_rate),
        "batch_upsert_fraction_of_raw": round(library_rate / raw_rate, 3),
        "batch_upsert_cpu_ms_per_10k": round(statistics.median(library_cpu), 1),
        "raw_executemany_cpu_ms_per_10k": round(statistics.median(raw_cpu), 1),
    }
    if library_server and raw_server:
        library_ms = statistics.median(library_server)
        raw_ms = statistics.median(raw_server)
        figures["batch_upsert_server_cpu_ms_per_10k"] = round(library_ms, 1)
        figures["raw_executemany_server_cpu_ms_per_10k"] = round(raw_ms, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--attributes", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--repeated", type=float, default=0.0, help="fraction of values kept")
    parser.add_argument("--history-rounds", type=int, default=0, help="rounds written first")
    options = parser.parse_args()
    url = options.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'batch.db'}"
    figures = bench_batch_upsert(
        url,
        entities=options.entities,
        attributes=options.attributes,
        rounds=options.rounds,
        repeated=options.repeated,
        history_rounds=options.history_rounds,
    )
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
