"""The temporal history of the information library: reads over ``context_instance``.

Every attribute write stores a row in ``context_instance`` (the write path of the
library does that in the same transaction). :class:`TemporalHistory` answers the
NGSI-LD temporal queries over those rows: the instances of a time window, the latest N
of each attribute, and aggregates per period computed by the database: by index
range scans where they answer the request (:mod:`~smartcity.kernel.context.temporal_ranges`),
else by GROUP BY period number (:mod:`~smartcity.kernel.context.temporal_sql`); a
:class:`Plan` chosen once per request says which.

Results are returned with **expanded** names; :mod:`temporal_representation` turns
them into the normalized, simplified (temporalValues) or aggregated representation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import Connection

from smartcity.kernel.context import temporal_ranges
from smartcity.kernel.context.entities import gc_paused
from smartcity.kernel.context.entity_rows import instance_id_of
from smartcity.kernel.context.errors import ResourceNotFound
from smartcity.kernel.context.temporal_params import (
    AGGREGATION_METHODS,
    Aggregation,
    TemporalQuery,
    TimeWindow,
)
from smartcity.kernel.context.temporal_sql import (
    ORIGIN,
    aggregate,
    entity_count,
    entity_page,
    entity_type,
    entity_types,
    instances,
)
from smartcity.kernel.storage import Store
from smartcity.kernel.storage.driver import fetch_all

AGGREGATE_WORK_MEM = "SET LOCAL work_mem = '64MB'"
TYPE_LOOKUP_CHUNK = 200
# Where a windowed aggregation is answered by range scans (``temporal_ranges``). On
# PostgreSQL they are ``LATERAL`` subqueries: hourly avg over a day, 100 entities, 2,400
# index-only range scans took 22–27 ms of server CPU against 40–75 ms for one GROUP BY
# on ``date_bin`` (session 7, measured under load; in session 4, with wide history rows
# and the aggregates packed as JSON, the GROUP BY had been faster).
RANGE_SCAN_DIALECTS = frozenset({"sqlite", "postgresql"})


class Plan(Enum):
    """How the database answers one aggregation request; chosen once per request."""

    # PostgreSQL: the page of entities and one range scan per attribute instance and
    # period, all in one statement (so it runs without a transaction).
    LATERAL = "lateral"
    # SQLite: the page, then one range scan per attribute instance and period.
    RANGES = "ranges"
    # Either backend: the general GROUP BY over the window's history.
    GROUPED = "grouped"


@dataclass(frozen=True)
class AttributeInstance:
    """One value an attribute had: the stored normalized attribute plus its ids/times."""

    name: str
    dataset_id: str
    instance_id: str
    kind: str
    attribute: dict[str, Any]
    observed_at: datetime | None
    recorded_at: datetime


@dataclass(frozen=True)
class Period:
    """The aggregates of one attribute instance (datasetId) over one period."""

    name: str
    dataset_id: str
    kind: str
    start: datetime
    end: datetime
    values: dict[str, float | int]


@dataclass
class TemporalEntity:
    """An entity's history: its id, (first) type, and instances or aggregated periods."""

    id: str
    type: str
    instances: list[AttributeInstance] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)


@dataclass(frozen=True)
class TemporalPage:
    """One page of a temporal query; ``count`` is the total when asked for."""

    entities: list[TemporalEntity]
    count: int | None = None


class TemporalHistory:
    """Read side of the temporal API."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def query(
        self,
        tenant: str,
        query: TemporalQuery,
        *,
        aggregation: Aggregation | None = None,
        count: bool = False,
    ) -> TemporalPage:
        """The entities with instances matching ``query`` (a page of them, by id)."""
        plan = None if aggregation is None else self._plan(query, aggregation, None)
        with self._store.connect() as conn:
            if plan is Plan.LATERAL:
                # No transaction around it: a BEGIN and a ROLLBACK are two round trips
                # more than the statement, and psycopg forgets its prepared statements
                # at every ROLLBACK. (Each statement reads its own snapshot in a
                # READ COMMITTED transaction all the same.)
                conn.execution_options(isolation_level="AUTOCOMMIT")
            total = (
                conn.execute(entity_count(self._store.dialect, tenant, query)).scalar_one()
                if count
                else None
            )
            if query.limit == 0:
                return TemporalPage([], total)
            entities: dict[str, TemporalEntity] = {}
            if aggregation is not None and plan is not None:
                # Thousands of periods, each a few objects freed by reference counting:
                # collections meanwhile would walk the whole heap (the p95 tail).
                with gc_paused():
                    self._aggregate(conn, tenant, query, aggregation, plan, entities, None)
                return TemporalPage(list(entities.values()), total)
            page = conn.execute(entity_page(self._store.dialect, tenant, query)).all()
            for row in page:
                entities[row.entity_id] = TemporalEntity(row.entity_id, row.entity_type)
            self._fill_instances(conn, tenant, query, entities)
        return TemporalPage(list(entities.values()), total)

    def retrieve(
        self,
        tenant: str,
        entity_id: str,
        query: TemporalQuery,
        *,
        aggregation: Aggregation | None = None,
    ) -> TemporalEntity:
        """One entity's history; ResourceNotFound if it never had any."""
        ids = [entity_id]
        plan = None if aggregation is None else self._plan(query, aggregation, ids)
        with self._store.connect() as conn:
            if plan is Plan.LATERAL:
                # As in ``query``: the type lookup and one statement, no transaction.
                conn.execution_options(isolation_level="AUTOCOMMIT")
            known = conn.execute(entity_type(tenant, entity_id)).first()
            if known is None:
                raise ResourceNotFound(f"entity {entity_id} has no temporal history")
            entity = TemporalEntity(entity_id, known.entity_type)
            if aggregation is not None and plan is not None:
                self._aggregate(conn, tenant, query, aggregation, plan, {entity_id: entity}, ids)
            else:
                self._fill_instances(conn, tenant, query, {entity_id: entity})
        return entity

    def _fill_instances(
        self,
        conn: Connection,
        tenant: str,
        query: TemporalQuery,
        entities: dict[str, TemporalEntity],
    ) -> None:
        """Add the instances of the window to each of ``entities``."""
        if not entities:
            return
        for row in conn.execute(instances(self._store.dialect, tenant, query, list(entities))):
            entities[row.entity_id].instances.append(
                AttributeInstance(
                    name=row.name,
                    dataset_id=row.dataset_id,
                    instance_id=instance_id_of(row.seq),
                    kind=row.kind,
                    attribute=json.loads(row.value_json),
                    observed_at=row.observed_at,
                    recorded_at=row.recorded_at,
                )
            )

    def _plan(
        self, query: TemporalQuery, aggregation: Aggregation, entity_ids: list[str] | None
    ) -> Plan:
        """Range scans where they answer the request, on the backend's way of running them."""
        dialect = self._store.dialect
        if dialect not in RANGE_SCAN_DIALECTS or not temporal_ranges.applies(
            query, aggregation, entity_ids
        ):
            return Plan.GROUPED
        return Plan.LATERAL if dialect == "postgresql" else Plan.RANGES

    def _aggregate(
        self,
        conn: Connection,
        tenant: str,
        query: TemporalQuery,
        aggregation: Aggregation,
        plan: Plan,
        entities: dict[str, TemporalEntity],
        entity_ids: list[str] | None,
    ) -> None:
        """Add the aggregated periods; without ``entity_ids`` the page's entities too."""
        if plan is Plan.LATERAL:
            self._aggregate_lateral(conn, tenant, query, aggregation, entities, entity_ids)
        elif plan is Plan.RANGES:
            self._aggregate_ranges(conn, tenant, query, aggregation, entities, entity_ids)
        else:
            self._aggregate_grouped(conn, tenant, query, aggregation, entities, entity_ids)

    def _aggregate_grouped(
        self,
        conn: Connection,
        tenant: str,
        query: TemporalQuery,
        aggregation: Aggregation,
        entities: dict[str, TemporalEntity],
        entity_ids: list[str] | None,
    ) -> None:
        """``_aggregate`` by the general GROUP BY statement."""
        dialect = self._store.dialect
        if dialect == "postgresql":
            # Room to sort or hash the grouped instances in memory, for this transaction.
            conn.exec_driver_sql(AGGREGATE_WORK_MEM)
        result = conn.execute(aggregate(dialect, tenant, query, aggregation, entity_ids))
        keys = list(result.keys())
        # Plain dicts, not rows: a row mapping is slow to build and answers a missing
        # key by raising inside, and there are thousands of periods.
        mappings = [dict(zip(keys, values, strict=True)) for values in result]
        grouped = {(m["entity_id"], m["name"], m["dataset_id"], m["period"]) for m in mappings}
        if len(grouped) != len(mappings):
            # An attribute instance with history under two entity types (two series).
            statement = aggregate(dialect, tenant, query, aggregation, entity_ids, by_series=False)
            result = conn.execute(statement)
            keys = list(result.keys())
            mappings = [dict(zip(keys, values, strict=True)) for values in result]
        for mapping in mappings:
            entity_id = mapping["entity_id"]
            entity = entities.get(entity_id)
            if entity is None:
                # The type is looked up per entity below: carrying it through the
                # grouping would widen every sorted row.
                entity = entities[entity_id] = TemporalEntity(entity_id, "")
            start, end = period_bounds(query.window, aggregation.period, mapping)
            entity.periods.append(
                Period(
                    name=mapping["name"],
                    dataset_id=mapping["dataset_id"],
                    kind=mapping["kind"],
                    start=start,
                    end=end,
                    values=aggregate_values(mapping, aggregation),
                )
            )
        self._add_types(conn, tenant, entities)

    def _aggregate_ranges(
        self,
        conn: Connection,
        tenant: str,
        query: TemporalQuery,
        aggregation: Aggregation,
        entities: dict[str, TemporalEntity],
        entity_ids: list[str] | None,
    ) -> None:
        """``_aggregate`` on SQLite: one index range scan per attribute instance and period."""
        dialect = self._store.dialect
        temporal_ranges.prepare(conn)
        if entity_ids is None:
            page = conn.execute(temporal_ranges.page_statement(dialect, tenant, query))
            entity_ids = [row[0] for row in page]
            for entity_id in entity_ids:
                entities[entity_id] = TemporalEntity(entity_id, "")
        if entity_ids:
            keys = temporal_ranges.packed_keys(dialect, aggregation)
            statement = temporal_ranges.aggregate_statement(
                dialect, tenant, query, aggregation, entity_ids
            )
            # Each period's bounds once, not once per attribute instance.
            bounds = temporal_ranges.periods_of(query, aggregation)
            rows = conn.execute(statement).all()
            if len({tuple(row[:4]) for row in rows}) != len(rows):
                # An attribute instance with history under two entity types (two
                # series): the range scans would split its periods.
                self._aggregate_grouped(conn, tenant, query, aggregation, entities, entity_ids)
                return
            for entity_id, name, dataset_id, number, packed in rows:
                mapping = temporal_ranges.unpack(keys, packed)
                if mapping is None:
                    continue
                start, end = bounds[number]
                entities[entity_id].periods.append(
                    Period(
                        name=name,
                        dataset_id=dataset_id,
                        kind=mapping["kind"],
                        start=start,
                        end=end,
                        values=aggregate_values(mapping, aggregation),
                    )
                )
        self._add_types(conn, tenant, entities)

    def _aggregate_lateral(
        self,
        conn: Connection,
        tenant: str,
        query: TemporalQuery,
        aggregation: Aggregation,
        entities: dict[str, TemporalEntity],
        entity_ids: list[str] | None,
    ) -> None:
        """``_aggregate`` on PostgreSQL: the page and its aggregates in one statement,
        each asked-for method a column (``temporal_ranges.postgres_statement``)."""
        sql, parameters = temporal_ranges.postgres_statement(tenant, query, aggregation, entity_ids)
        rows = fetch_all(conn, sql, parameters)
        methods = temporal_ranges.postgres_methods(aggregation)
        bounds = temporal_ranges.periods_of(query, aggregation)
        current: str | None = None
        periods: list[Period] = []
        # Thousands of rows: the loop is most of the client's time, so positional
        # arguments, one entity lookup per entity, and a comprehension only where a
        # method has no value (NULL only where the period has no number).
        for entity_id, recorded_type, name, dataset_id, number, kind, *values in rows:
            if entity_id != current:
                entity = entities.get(entity_id)
                if entity is None:
                    entity = entities[entity_id] = TemporalEntity(entity_id, recorded_type)
                current, periods = entity_id, entity.periods
            computed = dict(zip(methods, values, strict=True))
            if None in values:
                computed = {
                    method: value for method, value in computed.items() if value is not None
                }
            start, end = bounds[number]
            periods.append(Period(name, dataset_id, kind, start, end, computed))

    def _add_types(
        self, conn: Connection, tenant: str, entities: dict[str, TemporalEntity]
    ) -> None:
        """Fill in the recorded type of the entities that have none yet."""
        untyped = [entity.id for entity in entities.values() if not entity.type]
        # In chunks: SQLite caps a compound SELECT at 500 terms.
        for first in range(0, len(untyped), TYPE_LOOKUP_CHUNK):
            chunk = untyped[first : first + TYPE_LOOKUP_CHUNK]
            for row in conn.execute(entity_types(tenant, chunk)):
                entities[row.entity_id].type = row.entity_type


def period_bounds(
    window: TimeWindow, period: timedelta | None, row: Mapping[str, Any]
) -> tuple[datetime, datetime]:
    """Start and end of the period a result row covers.

    Without a period it is the whole window, bounded by the data where the window is
    open; periods are clipped to the window's end (the last one may be shorter).
    """
    if period is None:
        return (window.start or row["first_at"], window.end or row["last_at"])
    number = int(row["period"])
    if window.timerel == "before" and window.time_at is not None:
        end = window.time_at - number * period
        return (end - period, end)
    origin = window.time_at if window.time_at is not None else ORIGIN
    start = origin + number * period
    end = start + period
    if window.end is not None and end > window.end:
        end = window.end
    return (start, end)


def aggregate_values(
    mapping: Mapping[str, Any], aggregation: Aggregation
) -> dict[str, float | int]:
    """The asked-for aggregates of one row; numeric ones only where values are numbers.

    stddev is the **population** standard deviation (divide by n): the standard names
    it "standard deviation of the values" of the period, a description of all of them,
    and it is defined (0) for a period with one value. SQLite has no stddev, so the row
    carries sum, sum of squares and count and the square root is taken here.
    """
    numbers = int(mapping["number_count"] or 0)
    available: dict[str, float | int | None] = {
        "totalCount": mapping.get("total_count"),
        "distinctCount": mapping.get("distinct_count"),
    }
    if numbers:
        for method in ("sum", "avg", "min", "max", "sumsq", "stddev"):
            value = mapping.get(method)
            available[method] = None if value is None else float(value)
        if "sum" in mapping and "sumsq" in mapping and "stddev" not in mapping:
            available["stddev"] = population_stddev(
                numbers, float(mapping["sum"]), float(mapping["sumsq"])
            )
    values: dict[str, float | int] = {}
    for method in aggregation.methods:
        value = available.get(method)
        if value is not None:
            values[method] = int(value) if method.endswith("Count") else value
    return values


def population_stddev(count: int, total: float, squares: float) -> float:
    """sqrt(E[x²] - E[x]²) from count, sum and sum of squares (never negative)."""
    mean = total / count
    variance = squares / count - mean * mean
    return math.sqrt(variance) if variance > 0 else 0.0


__all__ = [
    "AGGREGATION_METHODS",
    "AttributeInstance",
    "Period",
    "TemporalEntity",
    "TemporalHistory",
    "TemporalPage",
]
