"""Benchmark: READ queries of the city information library (NGSI-LD context).

    uv run python bench/context_read.py [database-url]     # default: a temporary SQLite file

- :func:`bench_query`: ``select_entity_ids`` (the library's select path, under GET
  /entities) over 100,000 entities of 10 types: type + ``q`` (limit 20), and
  ``near;maxDistance==500`` around random points of the city (limit 20).
- :func:`bench_temporal`: the temporal API's hourly ``avg`` over one day for 100
  entities with 100,000 stored instances (plus another type on another day, so the
  indexes have to select).

Each sets up its own data (bulk writes) in the given empty, migrated database. Next to
the library's figures each reports a raw baseline in the same run: the same question as
hand-written SQL (``*_raw_*``), so a change of machine load shows in both.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, text

from smartcity.kernel.context.entity_rows import (
    attribute_row,
    attributes_of,
    entity_row,
    instance_row,
)
from smartcity.kernel.context.query import build_selection, select_entity_ids
from smartcity.kernel.context.series import fill_series
from smartcity.kernel.context.tables import (
    context_attribute,
    context_entity,
    context_entity_type,
    context_instance,
)
from smartcity.kernel.context.temporal import TemporalHistory
from smartcity.kernel.context.temporal_params import Aggregation, TemporalQuery, TimeWindow
from smartcity.kernel.storage import Store, open_store

VOCABULARY = "https://uri.etsi.org/ngsi-ld/default-context/"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"
TYPES = [f"Type{number}" for number in range(10)]
WEST, SOUTH, WIDTH, HEIGHT = 119.3, 39.7, 0.6, 0.4
WRITTEN_AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
DAY = datetime(2026, 11, 20, tzinfo=UTC)
BATCH = 10_000


def _expand(term: str) -> str:
    return LOCATION if term == "location" else VOCABULARY + term


def _percentiles(durations: list[float], prefix: str) -> dict[str, float]:
    ordered = sorted(durations)
    return {
        f"{prefix}_p50_ms": round(statistics.median(ordered), 2),
        f"{prefix}_p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
    }


def _timed(queries: int, run: Callable[[random.Random], object], seed: int) -> list[float]:
    chance = random.Random(seed)
    durations = []
    for _ in range(queries):
        started = time.perf_counter()
        run(chance)
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def _analyze(store: Store) -> None:
    if store.dialect != "postgresql":
        with store.begin() as conn:
            conn.execute(text("ANALYZE"))
        return
    # VACUUM too: the visibility map a live database's autovacuum keeps makes the
    # history's covering index answer without visiting the table (an index-only scan),
    # and the planner prices plans by it. A VACUUM cannot mark a page all-visible while
    # an older snapshot is open (autovacuum's own ANALYZE of the freshly loaded tables,
    # say): the index-only scans then visit the table for every row, and the temporal
    # figure doubled in such runs (session 9). So VACUUM again until the history's pages
    # are all visible, as they are once autovacuum has caught up.
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for attempt in range(20):
            conn.execute(text("VACUUM ANALYZE" if attempt == 0 else "VACUUM context_instance"))
            pages, visible = conn.execute(
                text(
                    "SELECT relpages, relallvisible FROM pg_class"
                    " WHERE relname = 'context_instance' AND relkind = 'r'"
                )
            ).one()
            if visible >= pages:
                return
            time.sleep(1.0)
        print(f"context_instance: {visible} of {pages} pages all-visible", file=sys.stderr)


# -- entity queries ---------------------------------------------------------------------


def _fill_entities(store: Store, entities: int) -> None:
    chance = random.Random(1)
    rows: dict[Any, list[dict[str, Any]]] = {}
    for number in range(entities):
        document: dict[str, Any] = {
            "id": f"urn:ngsi-ld:Thing:{number:06d}",
            "type": [_expand(TYPES[number % len(TYPES)])],
            _expand("temperature"): [
                {"type": "Property", "value": round(chance.uniform(-10, 40), 2)}
            ],
            _expand("status"): [
                {"type": "Property", "value": chance.choice(["free", "occupied", "closed"])}
            ],
            LOCATION: [
                {
                    "type": "GeoProperty",
                    "value": {
                        "type": "Point",
                        "coordinates": [
                            WEST + chance.random() * WIDTH,
                            SOUTH + chance.random() * HEIGHT,
                        ],
                    },
                }
            ],
        }
        rows.setdefault(context_entity, []).append(
            entity_row("", document, WRITTEN_AT, WRITTEN_AT)  # type: ignore[arg-type]
        )
        rows.setdefault(context_entity_type, []).append(
            {"tenant": "", "entity_id": document["id"], "type": document["type"][0]}
        )
        for name, instances in attributes_of(document).items():
            for instance in instances:
                rows.setdefault(context_attribute, []).append(
                    attribute_row(
                        "",
                        document["id"],
                        document["type"][0],
                        name,
                        instance,
                        WRITTEN_AT,
                        WRITTEN_AT,
                    )
                )
        if len(rows[context_entity]) >= BATCH or number == entities - 1:
            with store.begin() as conn:
                for table in (context_entity, context_entity_type, context_attribute):
                    store.bulk_insert(conn, table, rows.get(table, []))
            rows = {}
    _analyze(store)


def _type_q(chance: random.Random) -> dict[str, str]:
    return {
        "type_param": chance.choice(TYPES),
        "q_text": f'temperature>{chance.randint(-5, 35)};status=="free"',
    }


def _near_point(chance: random.Random) -> tuple[float, float]:
    return WEST + chance.random() * WIDTH, SOUTH + chance.random() * HEIGHT


RAW_TYPE_Q = """
SELECT e.id FROM context_entity e
WHERE e.tenant = '' AND e.type = :type
  AND e.id IN (SELECT entity_id FROM context_attribute WHERE tenant = '' AND entity_type = :type
               AND name = :temperature AND value_number > :low{number_rows})
  AND e.id IN (SELECT entity_id FROM context_attribute WHERE tenant = '' AND entity_type = :type
               AND name = :status AND value_text = 'free')
ORDER BY e.id LIMIT 20
"""
# PostgreSQL indexes no number (live updates stay HOT): the rows of an attribute's
# numbers are found by their class (decision 0015, second addendum).
NUMBER_ROWS = {"postgresql": " AND value_class = 2", "sqlite": ""}

# The bounding-box prefilter as it was before the widest-box lower bound: the index range
# is everything west of the box's east side.
RAW_NEAR_UNBOUNDED = """
SELECT id, location FROM context_entity
WHERE tenant = '' AND location_west <= :east AND location_east >= :west
  AND location_south <= :north AND location_north >= :south
"""


def bench_query(
    database_url: str, *, entities: int = 100_000, queries: int = 200
) -> dict[str, float]:
    """p50/p95 of type + q (limit 20) and of near;maxDistance==500 (limit 20), in ms;
    ``*_raw_*`` keys time hand-written SQL of the same questions in the same run."""
    store = open_store(database_url)
    try:
        _fill_entities(store, entities)
        results: dict[str, float] = {}
        with store.connect() as conn:

            def type_q(chance: random.Random) -> object:
                selection = build_selection("", expand=_expand, **_type_q(chance))
                return select_entity_ids(conn, selection, limit=20)

            def near(chance: random.Random) -> object:
                longitude, latitude = _near_point(chance)
                selection = build_selection(
                    "",
                    expand=_expand,
                    georel="near;maxDistance==500",
                    geometry="Point",
                    coordinates=f"[{longitude},{latitude}]",
                )
                return select_entity_ids(conn, selection, limit=20)

            def raw_type_q(chance: random.Random) -> object:
                asked = _type_q(chance)
                low = float(asked["q_text"].split(">")[1].split(";")[0])
                parameters = {
                    "type": _expand(asked["type_param"]),
                    "temperature": _expand("temperature"),
                    "status": _expand("status"),
                    "low": low,
                }
                raw = RAW_TYPE_Q.format(number_rows=NUMBER_ROWS[store.dialect])
                return conn.execute(text(raw), parameters).all()

            def raw_near_unbounded(chance: random.Random) -> object:
                longitude, latitude = _near_point(chance)
                # ~500 m (and a little more) in degrees at this latitude
                dx, dy = 0.0059, 0.0046
                parameters = {
                    "west": longitude - dx,
                    "east": longitude + dx,
                    "south": latitude - dy,
                    "north": latitude + dy,
                }
                return conn.execute(text(RAW_NEAR_UNBOUNDED), parameters).all()

            for label, run in (
                ("query_type_q", type_q),
                ("query_near", near),
                ("query_type_q_raw", raw_type_q),
                ("query_near_raw_unbounded_box", raw_near_unbounded),
            ):
                _timed(min(queries, 10), run, seed=3)  # warm up
                results.update(_percentiles(_timed(queries, run, seed=2), label))
        return results
    finally:
        store.close()


# -- temporal aggregation ---------------------------------------------------------------


def _fill_instances(store: Store, entities: int, instances: int) -> None:
    """``instances`` values of no2 over DAY for ``entities`` AirQualityObserved entities,
    and half as many of a TrafficFlowObserved on the day before."""
    per_entity = max(1, instances // entities)
    step = 86_400 / per_entity
    rows: list[dict[str, Any]] = []

    def add(entity_id: str, entity_type: str, at: datetime, value: float) -> None:
        nonlocal rows
        instance = {"type": "Property", "value": value, "observedAt": at.isoformat()}
        attribute = attribute_row("", entity_id, entity_type, _expand("no2"), instance, at, at)
        rows.append(instance_row(attribute, at))
        if len(rows) >= BATCH:
            with store.begin() as conn:
                _insert_history(store, conn, rows)
            rows = []

    for step_number in range(per_entity):
        for number in range(entities):
            at = DAY + timedelta(seconds=step * step_number + number * 0.01)
            add(
                f"urn:ngsi-ld:AirQualityObserved:s{number:04d}",
                _expand("AirQualityObserved"),
                at,
                float((number * 7 + step_number) % 50),
            )
    for step_number in range(per_entity // 2):
        for number in range(entities):
            at = DAY - timedelta(days=1) + timedelta(seconds=2 * step * step_number)
            add(
                f"urn:ngsi-ld:TrafficFlowObserved:t{number:04d}",
                _expand("TrafficFlowObserved"),
                at,
                float(number % 50),
            )
    with store.begin() as conn:
        _insert_history(store, conn, rows)
    _analyze(store)


def _insert_history(store: Store, conn: Connection, rows: list[dict[str, Any]]) -> None:
    """History rows as the library writes them: their series ids instead of their keys
    (decisions 0014 and 0016)."""
    fill_series(conn, rows)
    store.bulk_insert(conn, context_instance, rows)


def _raw_hourly(store: Store) -> str:
    if store.dialect == "sqlite":
        period = (
            "CAST(round((julianday(c.observed_at) - julianday('2026-11-20 00:00:00'))"
            " * 86400000) AS INTEGER) / 3600000"
        )
    else:
        period = "floor((extract(epoch FROM c.observed_at) - :origin) / 3600)::int"
    return f"""
SELECT s.entity_id, s.name, s.dataset_id, {period} AS period, count(c.value_number),
  avg(c.value_number)
FROM context_series s JOIN context_instance c ON c.series_id = s.id
WHERE s.tenant = '' AND c.deleted = false AND s.entity_type = :type AND s.name = :name
  AND c.observed_at >= :start AND c.observed_at < :end
GROUP BY s.entity_id, s.name, s.dataset_id, period
ORDER BY s.entity_id, s.name, s.dataset_id, period
"""


def bench_temporal(
    database_url: str, *, entities: int = 100, instances: int = 100_000, queries: int = 50
) -> dict[str, float]:
    """p50/p95 in ms of the hourly avg over one day of ``entities`` entities (a page of
    up to 100), through ``TemporalHistory.query``; ``*_raw_*`` keys time the hand-written
    GROUP BY of the same rows in the same run."""
    store = open_store(database_url)
    try:
        _fill_instances(store, entities, instances)
        history = TemporalHistory(store)
        query = TemporalQuery(
            window=TimeWindow("between", DAY, DAY + timedelta(days=1)),
            types=(_expand("AirQualityObserved"),),
            attrs=(_expand("no2"),),
            limit=min(entities, 100),
        )
        aggregation = Aggregation(methods=("avg",), period=timedelta(hours=1))
        page = history.query("", query, aggregation=aggregation)
        assert len(page.entities) == min(entities, 100)
        assert all(len(found.periods) == 24 for found in page.entities)

        def library(_: random.Random) -> object:
            return history.query("", query, aggregation=aggregation)

        raw_sql = text(_raw_hourly(store))
        bounds: dict[str, Any] = (
            {"start": "2026-11-20 00:00:00", "end": "2026-11-21 00:00:00"}
            if store.dialect == "sqlite"
            else {"start": DAY, "end": DAY + timedelta(days=1), "origin": DAY.timestamp()}
        )
        parameters = {
            "type": _expand("AirQualityObserved"),
            "name": _expand("no2"),
            **bounds,
        }

        def raw(_: random.Random) -> object:
            with store.connect() as conn:
                return conn.execute(raw_sql, parameters).all()

        results: dict[str, float] = {}
        for label, run in (("temporal_hourly_avg", library), ("temporal_hourly_avg_raw", raw)):
            _timed(min(queries, 3), run, seed=3)  # warm up
            results.update(_percentiles(_timed(queries, run, seed=2), label))
        return results
    finally:
        store.close()


def _fresh(database_url: str | None, name: str) -> str:
    """A migrated empty database: a new SQLite file, or the PostgreSQL one emptied."""
    if database_url is None or database_url.startswith("sqlite"):
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / name}"
    else:
        url = database_url
        store = open_store(url)
        with store.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        store.close()
    store = open_store(url)
    store.migrate()
    store.close()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url", nargs="?", help="PostgreSQL URL (emptied!) or SQLite")
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    arguments = parser.parse_args()
    load = Path("/proc/loadavg")
    if load.exists():
        print("load", load.read_text().split()[:3])
    results = bench_query(
        _fresh(arguments.database_url, "query.db"),
        entities=arguments.entities,
        queries=arguments.queries,
    )
    results.update(bench_temporal(_fresh(arguments.database_url, "temporal.db")))
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())
    if load.exists():
        print("load", load.read_text().split()[:3])


if __name__ == "__main__":
    main()
