"""Temporal aggregation by index range scans, for SQLite and PostgreSQL.

The general statement (:func:`smartcity.kernel.context.temporal_sql.aggregate`) groups
every matching instance by (entity, attribute, datasetId, period number): the database
sorts all of them, and sorting 100,000 instances is most of a day's hourly average.
When the periods are known in advance (``timerel=between`` on observedAt) and the
attributes are named, the same answer comes from one range scan of
``ix_context_instance_series`` per (series, period), and each scan reads
only its own index entries, already in order:

1. the page of entities: skip through ``ix_context_series_type`` from one entity id
   to the next (one probe per entity of the type, not one per instance), keeping the
   entities with an instance in the window (:func:`page_statement`);
2. the attribute instances (datasetIds) of each entity and attribute, by the same kind
   of skipping (:func:`aggregate_statement`);
3. for each attribute instance and period, one scalar subquery computing the asked-for
   aggregates over its index range, packed into one JSON array (a scalar subquery
   returns one value) and unpacked by :func:`unpack`.

SQLite writes the real numbers of its JSON with 15 significant digits (and its
``printf`` is not exact beyond 16), so on SQLite the values are packed by a small
function of ours (:func:`prepare` registers it): once per range, not once per row.

PostgreSQL answers the page and every range in one statement
(:func:`postgres_statement`): each range a ``LATERAL`` subquery, whose aggregates are
columns of their own, so nothing is packed.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, TextClause, text

from smartcity.kernel.context.temporal_params import Aggregation, TemporalQuery

# Beyond these the general GROUP BY statement is used: too many periods make per-period
# scans slower than one sort, and SQLite caps the bound parameters of a statement.
MAX_PERIODS = 1000
MAX_RANGES = 250_000
MAX_PARAMETERS = 30_000

PACK_FUNCTION = "smartcity_pack"


def periods_of(query: TemporalQuery, aggregation: Aggregation) -> list[tuple[datetime, datetime]]:
    """The [start, end) of every period of a ``between`` window, the last one clipped."""
    start, end = query.window.start, query.window.end
    if start is None or end is None:
        raise ValueError("periods are only known for a window bounded on both sides")
    if aggregation.period is None:
        return [(start, end)]
    count = math.ceil((end - start) / aggregation.period)
    return [
        (start + number * aggregation.period, min(end, start + (number + 1) * aggregation.period))
        for number in range(count)
    ]


def applies(
    query: TemporalQuery, aggregation: Aggregation, entity_ids: Sequence[str] | None
) -> bool:
    """Whether range scans can answer this aggregation (else the general statement)."""
    window = query.window
    if window.timerel != "between" or window.timeproperty != "observedAt":
        return False
    if not query.attrs or query.id_pattern is not None:
        return False
    if entity_ids is None and not (query.types or query.ids):
        return False
    start, end = window.start, window.end
    if start is None or end is None:  # pragma: no cover - between always has both
        return False
    periods = 1 if aggregation.period is None else math.ceil((end - start) / aggregation.period)
    entities = len(entity_ids) if entity_ids is not None else query.limit
    parameters = (
        2 * entities * len(query.attrs) + 2 * periods + 2 * len(query.types) + len(query.ids)
    )
    return (
        periods <= MAX_PERIODS
        and entities * len(query.attrs) * periods <= MAX_RANGES
        and parameters <= MAX_PARAMETERS
    )


class _Parameters:
    """Named bound values of one statement (``:p0``, ``:p1``, ...)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return ":" + name

    def instant(self, value: datetime) -> str:
        # SQLite stores instants as text; the short spelling of a whole second compares
        # right with both stored spellings (see temporal_sql.instant).
        if self.dialect == "sqlite":
            return self.add(value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "))
        return self.add(value)

    def listing(self, values: Sequence[Any]) -> str:
        return ", ".join(self.add(value) for value in values)


def _in_window(bound: _Parameters, query: TemporalQuery, alias: str) -> str:
    """Conditions on an instance row ``alias``: live, in the window."""
    start, end = query.window.start, query.window.end
    if start is None or end is None:  # pragma: no cover - ``applies`` checked it
        raise ValueError("range scans need a window bounded on both sides")
    return (
        f"{alias}.observed_at >= {bound.instant(start)}"
        f" AND {alias}.observed_at < {bound.instant(end)}"
        f" AND {alias}.deleted = {bound.add(False)}"
    )


def _matches(bound: _Parameters, tenant: str, query: TemporalQuery, entity: str) -> str:
    """EXISTS: the entity has an instance the query asks for (an index probe per series
    of the named attributes)."""
    types = f" AND s.entity_type IN ({bound.listing(query.types)})" if query.types else ""
    return (
        "EXISTS (SELECT 1 FROM context_series s JOIN context_instance m ON m.series_id = s.id"
        f" WHERE s.tenant = {bound.add(tenant)} AND s.entity_id = {entity}"
        f" AND s.name IN ({bound.listing(query.attrs)}){types}"
        f" AND {_in_window(bound, query, 'm')})"
    )


def _next_entity(bound: _Parameters, tenant: str, types: Sequence[str], after: str | None) -> str:
    """The first entity id of ``types`` after ``after`` (each type one index probe)."""
    later = "" if after is None else f" AND t.entity_id > {after}"
    probes = [
        "SELECT (SELECT min(t.entity_id) FROM context_series t"
        f" WHERE t.tenant = {bound.add(tenant)} AND t.entity_type = {bound.add(entity_type)}"
        f"{later}) AS id"
        for entity_type in types
    ]
    if len(probes) == 1:
        return probes[0].removeprefix("SELECT ").removesuffix(" AS id")
    return "(SELECT min(n.id) FROM (" + " UNION ALL ".join(probes) + ") AS n)"


def page_statement(dialect: str, tenant: str, query: TemporalQuery) -> TextClause:
    """The page of entity ids (in id order) having instances the query asks for."""
    bound = _Parameters(dialect)
    if query.ids:
        ids = sorted(set(query.ids))
        rows = ", ".join(f"({bound.add(entity_id)})" for entity_id in ids)
        sql = (
            f"WITH candidate(entity_id) AS (VALUES {rows}) SELECT candidate.entity_id"
            f" FROM candidate WHERE {_matches(bound, tenant, query, 'candidate.entity_id')}"
        )
    else:
        # Entities are visited in id order and counted as they match; the walk stops
        # once the page is full, so a page costs about offset + limit probes.
        first = _next_entity(bound, tenant, query.types, None)
        following = _next_entity(bound, tenant, query.types, "candidate.entity_id")
        matched = _matches(bound, tenant, query, "candidate.entity_id")
        stop = bound.add(query.offset + query.limit)
        sql = (
            "WITH RECURSIVE candidate(entity_id, matched) AS ("
            f" SELECT {first}, 0"
            f" UNION ALL SELECT {following},"
            f" candidate.matched + CASE WHEN {matched} THEN 1 ELSE 0 END"
            " FROM candidate"
            f" WHERE candidate.entity_id IS NOT NULL AND candidate.matched < {stop})"
            " SELECT candidate.entity_id FROM candidate WHERE candidate.entity_id IS NOT NULL"
            f" AND {_matches(bound, tenant, query, 'candidate.entity_id')}"
        )
    sql += f" ORDER BY 1 LIMIT {bound.add(query.limit)} OFFSET {bound.add(query.offset)}"
    return text(sql).bindparams(**bound.values)


def packed_keys(dialect: str, aggregation: Aggregation) -> list[str]:
    """The names of the values :func:`aggregate_statement` packs, in order."""
    methods = set(aggregation.methods)
    keys = ["total_count", "number_count", "kind"]
    if "distinctCount" in methods:
        keys.append("distinct_count")
    sqlite_stddev = "stddev" in methods and dialect != "postgresql"
    if "sum" in methods or sqlite_stddev:
        keys.append("sum")
    if "sumsq" in methods or sqlite_stddev:
        keys.append("sumsq")
    keys += [method for method in ("avg", "min", "max") if method in methods]
    if "stddev" in methods and dialect == "postgresql":
        keys.append("stddev")
    return keys


def _packed(dialect: str, keys: Sequence[str]) -> str:
    """The JSON array of the aggregates of one range (instance rows ``c``)."""
    number = "c.value_number"
    expressions = {
        "total_count": "count(*)",
        "number_count": f"count({number})",
        "kind": "max(c.kind)",
        "distinct_count": (
            f"count(DISTINCT {number}) + count(DISTINCT c.value_text)"
            " + count(DISTINCT c.value_bool) + count(DISTINCT CASE WHEN"
            f" {number} IS NULL AND c.value_text IS NULL AND c.value_bool IS NULL"
            " THEN c.value_json END)"
        ),
        "sum": f"sum({number})",
        "sumsq": f"sum({number} * {number})",
        "avg": f"avg({number})",
        "min": f"min({number})",
        "max": f"max({number})",
        "stddev": f"stddev_pop({number})",
    }
    values = ", ".join(expressions[key] for key in keys)
    if dialect == "postgresql":
        # As text: orjson reads it several times faster than the driver's json module.
        return f"json_build_array({values})::text"
    return f"{PACK_FUNCTION}({values})"


def _pack(*values: Any) -> bytes:
    # orjson writes the shortest text that reads back as the same double.
    return orjson.dumps(values)


def prepare(conn: Connection) -> None:
    """Ready the connection for the statements of this module.

    SQLite: make :data:`PACK_FUNCTION` known (each time: registering is a pointer swap,
    cheaper than tracking connections). PostgreSQL: nothing; the store's connections
    run without JIT (``storage.postgres.no_jit``), which would compile these statements
    for longer (~0.5 s) than they run.
    """
    if conn.dialect.name != "sqlite":
        return
    driver = conn.connection.driver_connection
    if isinstance(driver, sqlite3.Connection):
        driver.create_function(PACK_FUNCTION, -1, _pack, deterministic=True)


def aggregate_statement(
    dialect: str,
    tenant: str,
    query: TemporalQuery,
    aggregation: Aggregation,
    entity_ids: Sequence[str],
) -> TextClause:
    """(entity_id, name, dataset_id, period, packed) per attribute instance and period,
    in that order; ``packed`` holds the values :func:`packed_keys` names."""
    bound = _Parameters(dialect)
    pairs = ", ".join(
        f"({bound.add(entity_id)}, {bound.add(name)})"
        for entity_id in entity_ids
        for name in query.attrs
    )
    buckets = ", ".join(
        f"({number}, {bound.instant(start)}, {bound.instant(end)})"
        for number, (start, end) in enumerate(periods_of(query, aggregation))
    )
    owner = bound.add(tenant)
    live = bound.add(False)
    # One row per series: an attribute instance written under two entity types (a
    # replaced entity) has two, and :func:`unpack`'s caller falls back to the general
    # statement when it sees that (see ``TemporalHistory._aggregate_ranges``).
    sql = (
        f"WITH pair(entity_id, name) AS (VALUES {pairs}),"
        " series(id, entity_id, name, dataset_id) AS ("
        " SELECT s.id, s.entity_id, s.name, s.dataset_id FROM pair JOIN context_series s"
        f" ON s.tenant = {owner} AND s.entity_id = pair.entity_id AND s.name = pair.name),"
        f" bucket(period, start_at, end_at) AS (VALUES {buckets})"
        " SELECT series.entity_id, series.name, series.dataset_id, bucket.period,"
        f" (SELECT {_packed(dialect, packed_keys(dialect, aggregation))}"
        " FROM context_instance c WHERE c.series_id = series.id"
        " AND c.observed_at >= bucket.start_at AND c.observed_at < bucket.end_at"
        f" AND c.deleted = {live}) AS packed"
        " FROM series CROSS JOIN bucket"
        " ORDER BY 1, 2, 3, 4"
    )
    return text(sql).bindparams(**bound.values)


# PostgreSQL: each asked-for method as its own column of the lateral aggregate. Every
# numeric one is NULL where the range holds no number, so a column's NULL means "no
# value" and nothing else (``aggregate_values``'s rule, without a count to check).
POSTGRES_METHODS = {
    "totalCount": "count(*)",
    "distinctCount": (
        "count(DISTINCT c.value_number) + count(DISTINCT c.value_text)"
        " + count(DISTINCT c.value_bool) + count(DISTINCT CASE WHEN c.value_number IS NULL"
        " AND c.value_text IS NULL AND c.value_bool IS NULL THEN c.value_json END)"
    ),
    "sum": "sum(c.value_number)",
    "sumsq": "sum(c.value_number * c.value_number)",
    "avg": "avg(c.value_number)",
    "min": "min(c.value_number)",
    "max": "max(c.value_number)",
    "stddev": "stddev_pop(c.value_number)",
}


def postgres_methods(aggregation: Aggregation) -> tuple[str, ...]:
    """The methods :func:`postgres_statement` computes, in the order of its columns."""
    return tuple(dict.fromkeys(aggregation.methods))


def postgres_statement(
    tenant: str,
    query: TemporalQuery,
    aggregation: Aggregation,
    entity_ids: Sequence[str] | None,
) -> tuple[str, dict[str, Any]]:
    """PostgreSQL: the page of entities and their aggregates in one statement (driver SQL,
    named parameters).

    Rows ``(entity_id, entity_type, name, dataset_id, period, kind, *methods)`` in that
    order, one per attribute instance and period holding instances; ``period``
    indexes :func:`periods_of`, the methods are :func:`postgres_methods`. Each (attribute
    instance, period) is one index-only range scan of ``ix_context_instance_series`` aggregated as
    it is read (a ``LATERAL`` subquery: its columns need no packing), so no instance
    is hashed, sorted or binned; the periods come as two arrays and the lists as arrays
    too, so the text is the same for every query of a shape and psycopg prepares it.
    """
    start, end = query.window.start, query.window.end
    if start is None or end is None:  # pragma: no cover - ``applies`` checked it
        raise ValueError("range scans need a window bounded on both sides")
    periods = periods_of(query, aggregation)
    parameters: dict[str, Any] = {
        "tenant": tenant,
        "attrs": list(query.attrs),
        "start": start,
        "end": end,
        "starts": [first for first, _ in periods],
        "ends": [last for _, last in periods],
    }
    # One type: an equality, so the walk over ``ix_context_series_type`` is in id order
    # and stops when the page is full (with an array it sorts every entity of the types).
    if len(query.types) == 1:
        parameters["type"] = query.types[0]
        types = " AND s.entity_type = %(type)s"
    elif query.types:
        parameters["types"] = list(query.types)
        types = " AND s.entity_type = ANY(%(types)s)"
    else:
        types = ""
    if query.ids:
        parameters["ids"] = list(query.ids)
        types += " AND s.entity_id = ANY(%(ids)s)"
    if entity_ids is None:
        parameters["limit"] = query.limit
        parameters["offset"] = query.offset
        page = (
            "SELECT s.entity_id FROM context_series s"
            f" WHERE s.tenant = %(tenant)s AND s.name = ANY(%(attrs)s){types}"
            " AND EXISTS (SELECT 1 FROM context_instance m WHERE m.series_id = s.id"
            " AND m.observed_at >= %(start)s AND m.observed_at < %(end)s"
            " AND m.deleted = false)"
            " GROUP BY s.entity_id ORDER BY s.entity_id LIMIT %(limit)s OFFSET %(offset)s"
        )
    else:
        parameters["entity_ids"] = list(entity_ids)
        page = "SELECT DISTINCT unnest(%(entity_ids)s::text[]) AS entity_id"
    methods = ", ".join(
        f"{POSTGRES_METHODS[method]} AS m{number}"
        for number, method in enumerate(postgres_methods(aggregation))
    )
    sql = (
        f"WITH page AS ({page}),"
        # An attribute instance recorded under two entity types (a replaced entity) has
        # two series: one range scan covers both, as the general statement groups them.
        " series AS MATERIALIZED (SELECT s.entity_id, s.name, s.dataset_id,"
        " min(s.entity_type) AS entity_type, array_agg(s.id) AS ids,"
        " row_number() OVER (ORDER BY s.entity_id, s.name, s.dataset_id) AS rank"
        " FROM page JOIN context_series s ON s.entity_id = page.entity_id"
        f" WHERE s.tenant = %(tenant)s AND s.name = ANY(%(attrs)s){types}"
        " GROUP BY s.entity_id, s.name, s.dataset_id)"
        " SELECT series.entity_id, series.entity_type, series.name, series.dataset_id,"
        " bucket.period - 1, ranged.*"
        " FROM series CROSS JOIN unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[])"
        " WITH ORDINALITY AS bucket(start_at, end_at, period)"
        f" CROSS JOIN LATERAL (SELECT max(c.kind) AS kind, {methods}"
        " FROM context_instance c WHERE c.series_id = ANY(series.ids)"
        " AND c.observed_at >= bucket.start_at AND c.observed_at < bucket.end_at"
        " AND c.deleted = false) AS ranged"
        " WHERE ranged.kind IS NOT NULL"
        " ORDER BY series.rank, bucket.period"
    )
    return sql, parameters


def unpack(keys: Sequence[str], packed: Any) -> dict[str, Any] | None:
    """The aggregates of one range by name; None for a period without instances."""
    values = orjson.loads(packed) if isinstance(packed, str | bytes) else packed
    mapping = dict(zip(keys, values, strict=True))
    return mapping if mapping["total_count"] else None


__all__ = [
    "aggregate_statement",
    "applies",
    "packed_keys",
    "page_statement",
    "postgres_methods",
    "postgres_statement",
    "prepare",
    "unpack",
]
