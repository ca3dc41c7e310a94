"""SQL of the temporal API over ``context_instance``, for SQLite and PostgreSQL.

Aggregation happens in the database: rows are grouped by (entity, attribute, datasetId,
period number). The period number of an instant ``t`` is computed from a fixed origin:

- ``after``/``between``: origin ``timeAt``; ``k = floor((t - timeAt) / period)``, period
  ``k`` is ``[timeAt + k·p, timeAt + (k+1)·p)``.
- ``before``: periods run backwards from ``timeAt``; ``d = timeAt - t > 0`` and
  ``k = ceil(d / p) - 1``, period ``k`` is ``[timeAt - (k+1)·p, timeAt - k·p)``.
- no timerel: origin 0001-01-01T00:00Z (a Monday midnight), so hours, days and weeks
  fall on calendar boundaries, and no stored instant lies before it.

SQLite stores instants as naive UTC text; differences come from ``julianday`` rounded
to whole milliseconds (``julianday`` keeps milliseconds, and rounding makes the integer
arithmetic after it exact). PostgreSQL uses ``extract(epoch ...)`` (exact numeric).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Interval,
    Numeric,
    Select,
    String,
    TextClause,
    and_,
    case,
    cast,
    extract,
    false,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

from smartcity.kernel.context.tables import context_instance, context_series
from smartcity.kernel.context.temporal_params import (
    Aggregation,
    TemporalQuery,
    TimeWindow,
)
from smartcity.kernel.storage.types import UtcDateTime

ORIGIN = datetime(1, 1, 1, tzinfo=UTC)
MS_PER_DAY = 86_400_000

ci = context_instance
cs = context_series
# History rows with their series: conditions on the entity, attribute, datasetId and
# type are put on the series (the same values the row carries), so each series is
# one range of the history's index and an aggregation reads only that index.
history = ci.join(cs, ci.c.series_id == cs.c.id)


def time_column(window: TimeWindow) -> ColumnElement[Any]:
    """The column a time window filters on (createdAt/modifiedAt: when recorded)."""
    return ci.c.observed_at if window.timeproperty == "observedAt" else ci.c.recorded_at


def order_column(window: TimeWindow) -> ColumnElement[Any]:
    """The instant instances are ordered by: an instance without observedAt sorts by
    when it was recorded, so unfiltered histories still come out in time order."""
    if window.timeproperty == "observedAt":
        return func.coalesce(ci.c.observed_at, ci.c.recorded_at)
    return ci.c.recorded_at


def instant(dialect: str, value: datetime) -> ColumnElement[Any]:
    """A bound instant comparable with stored ones, using the index.

    SQLite keeps instants as text, and two writers produce two spellings of a whole
    second: SQLAlchemy's ``2026-11-20 01:00:00.000000`` and the driver's
    ``2026-11-20 01:00:00`` (``Store.bulk_insert``). Bound in the short spelling, a
    bound compares right with both: the long one sorts after its own prefix.
    """
    if dialect == "sqlite":
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return literal(naive.isoformat(sep=" "), String)
    return literal(value, UtcDateTime)


def instance_filters(
    dialect: str, tenant: str, query: TemporalQuery, entity_ids: list[str] | None = None
) -> list[ColumnElement[bool]]:
    """WHERE conditions selecting the live instances a query asks for."""
    conditions: list[ColumnElement[bool]] = [cs.c.tenant == tenant, ci.c.deleted == false()]
    if entity_ids is not None:
        conditions.append(cs.c.entity_id.in_(entity_ids))
    if query.ids:
        conditions.append(cs.c.entity_id.in_(query.ids))
    if query.types:
        conditions.append(cs.c.entity_type.in_(query.types))
    if query.id_pattern is not None:
        conditions.append(cs.c.entity_id.regexp_match(query.id_pattern))
    if query.attrs:
        conditions.append(cs.c.name.in_(query.attrs))
    column = time_column(query.window)
    if query.window.start is not None:
        conditions.append(column >= instant(dialect, query.window.start))
    if query.window.end is not None:
        conditions.append(column < instant(dialect, query.window.end))
    return conditions


def entity_page(dialect: str, tenant: str, query: TemporalQuery) -> Select[Any]:
    """The entities (id, type) with matching instances, one page of them, by id."""
    return (
        select(cs.c.entity_id, func.max(cs.c.entity_type).label("entity_type"))
        .select_from(history)
        .where(*instance_filters(dialect, tenant, query))
        .group_by(cs.c.entity_id)
        .order_by(cs.c.entity_id)
        .limit(query.limit)
        .offset(query.offset)
    )


def entity_type(tenant: str, entity_id: str) -> Select[Any]:
    """The type an entity's history is recorded under (a few index probes: any series
    with a row will do, as the history keeps the entity's first type on every row)."""
    return (
        select(cs.c.entity_type)
        .where(
            cs.c.tenant == tenant,
            cs.c.entity_id == entity_id,
            select(ci.c.seq).where(ci.c.series_id == cs.c.id).exists(),
        )
        .limit(1)
    )


def entity_types(tenant: str, entity_ids: list[str]) -> TextClause:
    """(entity_id, entity_type) of each of ``entity_ids``: one statement, one index probe
    per entity, as :func:`entity_type` does for one. Written as text: a construct of a
    union of a hundred selects costs more to build than the statement takes to run."""
    values = {f"e{number}": entity_id for number, entity_id in enumerate(entity_ids)}
    rows = ", ".join(f"(:{name})" for name in values)
    return text(
        f"WITH wanted(id) AS (VALUES {rows})"
        " SELECT wanted.id AS entity_id, (SELECT s.entity_type FROM context_series s"
        " WHERE s.tenant = :tenant AND s.entity_id = wanted.id AND EXISTS"
        " (SELECT 1 FROM context_instance c WHERE c.series_id = s.id) LIMIT 1) AS entity_type"
        " FROM wanted"
    ).bindparams(tenant=tenant, **values)


def entity_count(dialect: str, tenant: str, query: TemporalQuery) -> Select[Any]:
    """How many entities have matching instances."""
    return (
        select(func.count(func.distinct(cs.c.entity_id)))
        .select_from(history)
        .where(*instance_filters(dialect, tenant, query))
    )


# The row's key comes from its series (decision 0016); its instanceId from ``seq``.
INSTANCE_COLUMNS = (
    cs.c.entity_id,
    cs.c.name,
    cs.c.dataset_id,
    ci.c.kind,
    ci.c.value_json,
    ci.c.observed_at,
    ci.c.recorded_at,
    ci.c.seq,
)


def instances(
    dialect: str, tenant: str, query: TemporalQuery, entity_ids: list[str]
) -> Select[Any]:
    """The matching instances of ``entity_ids``, oldest first per attribute; with lastN
    only the latest N of each attribute instance (datasetId)."""
    conditions = instance_filters(dialect, tenant, query, entity_ids)
    when = order_column(query.window)
    if query.last_n is None:
        return (
            select(*INSTANCE_COLUMNS)
            .select_from(history)
            .where(*conditions)
            .order_by(cs.c.entity_id, cs.c.name, cs.c.dataset_id, when, ci.c.seq)
        )
    rank = (
        func.row_number()
        .over(
            partition_by=(cs.c.entity_id, cs.c.name, cs.c.dataset_id),
            order_by=(when.desc(), ci.c.seq.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(*INSTANCE_COLUMNS, when.label("at"), rank)
        .select_from(history)
        .where(*conditions)
        .subquery()
    )
    return (
        select(*(ranked.c[column.name] for column in INSTANCE_COLUMNS))
        .where(ranked.c.rank <= query.last_n)
        .order_by(
            ranked.c.entity_id,
            ranked.c.name,
            ranked.c.dataset_id,
            ranked.c.at,
            ranked.c.seq,
        )
    )


def _origin(window: TimeWindow) -> datetime:
    return window.time_at if window.time_at is not None else ORIGIN


def _sqlite_ms(later: ColumnElement[Any], earlier: ColumnElement[Any]) -> ColumnElement[Any]:
    days = func.julianday(later) - func.julianday(earlier)
    return cast(func.round(days * MS_PER_DAY), Integer)


def period_number(dialect: str, window: TimeWindow, period: timedelta | None) -> ColumnElement[Any]:
    """The SQL expression numbering the aggregation period an instance falls in."""
    if period is None:
        return literal(0)
    column = time_column(window)
    origin = instant(dialect, _origin(window))
    backwards = window.timerel == "before"
    if dialect == "sqlite":
        period_ms = literal(round(period.total_seconds() * 1000))
        if backwards:
            # d >= 1 ms here (t < timeAt), so (d - 1) // p is ceil(d / p) - 1.
            return (_sqlite_ms(origin, column) - 1) // period_ms
        return _sqlite_ms(column, origin) // period_ms
    microseconds = period // timedelta(microseconds=1)
    seconds = literal(Decimal(microseconds) / Decimal(1_000_000), Numeric)
    difference = extract("epoch", column) - extract("epoch", origin)
    # 64-bit: without timerel periods count from the year 1 (seconds-long ones overflow).
    if backwards:
        return cast(func.ceil(-difference / seconds) - 1, BigInteger)
    return cast(func.floor(difference / seconds), BigInteger)


def _aggregate_columns(
    dialect: str, aggregation: Aggregation, window: TimeWindow
) -> list[ColumnElement[Any]]:
    """Only what the asked-for methods need: each extra aggregate (a distinct count
    above all, which sorts its values) costs time on every row."""
    number = ci.c.value_number
    methods = set(aggregation.methods)
    columns: list[ColumnElement[Any]] = [
        func.max(ci.c.kind).label("kind"),
        func.count(number).label("number_count"),
    ]
    if aggregation.period is None:
        column = time_column(window)
        columns += [func.min(column).label("first_at"), func.max(column).label("last_at")]
    if "totalCount" in methods:
        columns.append(func.count().label("total_count"))
    if "distinctCount" in methods:
        scalar_missing = and_(
            number.is_(None), ci.c.value_text.is_(None), ci.c.value_bool.is_(None)
        )
        # A value is a number, a text, a boolean or (structured) its JSON; the four kinds
        # never equal each other, so their distinct counts add up.
        distinct = (
            func.count(func.distinct(number))
            + func.count(func.distinct(ci.c.value_text))
            + func.count(func.distinct(ci.c.value_bool))
            + func.count(func.distinct(case((scalar_missing, ci.c.value_json))))
        )
        columns.append(distinct.label("distinct_count"))
    sqlite_stddev = "stddev" in methods and dialect != "postgresql"
    if "sum" in methods or sqlite_stddev:
        columns.append(func.sum(number).label("sum"))
    if "sumsq" in methods or sqlite_stddev:
        columns.append(func.sum(number * number).label("sumsq"))
    if "avg" in methods:
        columns.append(func.avg(number).label("avg"))
    if "min" in methods:
        columns.append(func.min(number).label("min"))
    if "max" in methods:
        columns.append(func.max(number).label("max"))
    if "stddev" in methods and dialect == "postgresql":
        columns.append(func.stddev_pop(number).label("stddev"))
    return columns


def aggregate(
    dialect: str,
    tenant: str,
    query: TemporalQuery,
    aggregation: Aggregation,
    entity_ids: list[str] | None = None,
    *,
    binned: bool | None = None,
    by_series: bool = True,
) -> Select[Any]:
    """One row per (entity, attribute, datasetId, period) with the aggregates asked for.

    On PostgreSQL (``binned`` by default there) rows are grouped by ``date_bin`` of their
    instant; the other form numbers each row's period with epoch arithmetic.

    Without ``entity_ids`` the query's page of entities is chosen in the same statement
    (dense rank of the entity id over the grouped rows), so the matching instances are
    read once, not once to page and again to aggregate.
    """
    if binned is None:
        binned = dialect == "postgresql"
    binned = binned and aggregation.period is not None
    if binned:
        # Grouped by the start of each row's period (``date_bin``: integer microseconds);
        # the period number is computed once per group, outside, instead of numeric
        # epoch arithmetic on every row.
        period = period_start(query.window, aggregation.period).label("bucket")
    else:
        period = period_number(dialect, query.window, aggregation.period).label("period")
    column = time_column(query.window)
    conditions = (*instance_filters(dialect, tenant, query, entity_ids), column.is_not(None))
    aggregates = _aggregate_columns(dialect, aggregation, query.window)
    if by_series:
        # Grouped by series id (integers, in the history index's order) and named
        # afterwards: sorting the rows by three strings cost most of the statement. An
        # attribute instance with history under two types has two series, so two rows
        # per period: the caller then asks again with ``by_series=False``.
        per_series = (
            select(ci.c.series_id, period, *aggregates)
            .select_from(history)
            .where(*conditions)
            .group_by(ci.c.series_id, period)
            .subquery("per_series")
        )
        grouped = (
            select(
                cs.c.entity_id,
                cs.c.name,
                cs.c.dataset_id,
                *(c for c in per_series.c if c.name != "series_id"),
            )
            .select_from(per_series.join(cs, cs.c.id == per_series.c.series_id))
            .subquery("grouped")
        )
    else:
        grouped = (
            select(cs.c.entity_id, cs.c.name, cs.c.dataset_id, period, *aggregates)
            .select_from(history)
            .where(*conditions)
            .group_by(cs.c.entity_id, cs.c.name, cs.c.dataset_id, period)
            .subquery("grouped")
        )

    def output(source: Any) -> list[ColumnElement[Any]]:
        columns = [source[c.name] for c in grouped.c]
        if binned:
            columns = [
                period_of_start(query.window, aggregation.period, c).label("period")
                if c.name == "bucket"
                else c
                for c in columns
            ]
        return columns

    rank = func.dense_rank().over(order_by=grouped.c.entity_id).label("entity_rank")
    ranked = select(grouped, rank).subquery("ranked")
    statement = select(*output(ranked.c)).where(
        ranked.c.entity_rank > query.offset, ranked.c.entity_rank <= query.offset + query.limit
    )
    if entity_ids is not None:
        statement = select(*output(grouped.c))
    source = statement.selected_columns
    # Periods of ``before`` are numbered backwards from timeAt; list oldest first.
    newest_first = query.window.timerel == "before"
    return statement.order_by(
        source.entity_id,
        source.name,
        source.dataset_id,
        source.period.desc() if newest_first else source.period,
    )


def period_start(window: TimeWindow, period: timedelta | None) -> ColumnElement[Any]:
    """PostgreSQL: the start of the period an instance falls in (periods are aligned on
    the window's origin both ways, so ``date_bin`` finds it for ``before`` too)."""
    origin = instant("postgresql", _origin(window))
    return func.date_bin(literal(period, Interval), time_column(window), origin)


def period_of_start(
    window: TimeWindow, period: timedelta | None, start: ColumnElement[Any]
) -> ColumnElement[Any]:
    """The period number (see :func:`period_number`) of a period starting at ``start``."""
    if period is None:  # pragma: no cover - binned only with a period
        return literal(0)
    origin = instant("postgresql", _origin(window))
    microseconds = period // timedelta(microseconds=1)
    seconds = literal(Decimal(microseconds) / Decimal(1_000_000), Numeric)
    # ``start`` is ``origin`` plus a whole number of periods: the division is exact.
    offsets = extract("epoch", start - origin) / seconds
    if window.timerel == "before":
        return cast(func.round(-offsets) - 1, BigInteger)
    return cast(func.round(offsets), BigInteger)
