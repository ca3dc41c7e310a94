"""Statements at the DB-API driver level, for hot paths that run the same few queries.

Inside the caller's transaction (the DBAPI cursor of the same connection), without
building and compiling a SQLAlchemy statement per call: for a handful of rows that
costs more than the query. The SQL text is the caller's; these helpers only bridge the
two drivers' differences (parameter markers, lists of values) and the column types'
conversions that plain driver rows skip.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Column, Connection, Insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

# Where a connection keeps psycopg's prepare threshold while ``plan_each_run`` holds it
# (the PostgreSQL store restores it at check-in: ``postgres.restore_prepare_on_checkin``).
PREPARE_THRESHOLD = "smartcity_prepare_threshold"


def plan_each_run(conn: Connection) -> None:
    """Until ``conn`` goes back to the pool, plan its statements for their parameters.

    psycopg prepares a statement it ran five times on a connection, and PostgreSQL may
    then settle on a generic plan, which cannot see how long the arrays of a batch are:
    for a batch's ``UPDATE … FROM unnest(…)`` of 5,000 rows it assumed 10, and on tables
    not yet analyzed nested-looped 5,000 × 5,000 rows (6.8 s for one statement instead
    of ~30 ms). Unprepared (unnamed) statements are planned with the values they are
    given, every time: worth it for a batch (under a millisecond of planning against
    tens of milliseconds of work), not for a PATCH's few rows, whose statements keep
    their prepared plans: forcing custom plans on every connection
    (``plan_cache_mode=force_custom_plan``) cost a PATCH's backend 15–40% more CPU.
    Nothing on SQLite, which plans every statement for its values anyway.
    """
    if conn.dialect.name != "postgresql":
        return
    record = conn.connection
    driver: Any = record.driver_connection
    if PREPARE_THRESHOLD not in record.info:
        record.info[PREPARE_THRESHOLD] = driver.prepare_threshold
    driver.prepare_threshold = None


def marker(conn: Connection) -> str:
    """The driver's parameter marker: ``%s`` (psycopg) or ``?`` (sqlite3)."""
    return "%s" if conn.dialect.name == "postgresql" else "?"


def any_of(conn: Connection, column: str, values: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """``column`` is one of ``values``: the SQL condition and its parameters.

    PostgreSQL gets one array parameter (``= ANY(%s)``: one statement text whatever the
    count, so psycopg prepares it once); SQLite a marker per value.
    """
    if conn.dialect.name == "postgresql":
        return f"{column} = ANY(%s)", (list(values),)
    return f"{column} IN ({', '.join('?' * len(values))})", tuple(values)


def fetch_all(
    conn: Connection, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = ()
) -> list[tuple[Any, ...]]:
    """Run ``sql`` on the connection's DBAPI cursor; the rows as plain driver tuples.

    Values come back as the driver gives them: see :func:`result_processor` for the
    column types SQLAlchemy converts (SQLite's datetimes are text). Parameters are
    positional (a sequence) or named (a mapping), as ``sql``'s markers say.
    """
    values = parameters if isinstance(parameters, Mapping) else tuple(parameters)
    if traced(conn):
        return [tuple(row) for row in conn.exec_driver_sql(sql, values)]
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, values)
        return cast(list[tuple[Any, ...]], cursor.fetchall())
    finally:
        cursor.close()


def result_processor(column: Column[Any], dialect: Dialect) -> Any:
    """The converter SQLAlchemy applies to ``column``'s raw values on ``dialect`` (or None)."""
    return column.type.dialect_impl(dialect).result_processor(dialect, None)


def traced(conn: Connection) -> bool:
    """Whether someone listens to ``conn``'s statements (instrumentation, tests).

    The helpers here then send their statements through SQLAlchemy's
    ``exec_driver_sql``, so that every listener sees each one; otherwise they go straight
    to the driver, which on a hot path costs a fraction of SQLAlchemy's execution.
    """
    return bool(conn.dispatch.before_cursor_execute or conn.dispatch.after_cursor_execute)


def driver_of(conn: Connection) -> Any:
    """The DB-API connection under ``conn`` (sqlite3's or psycopg's own)."""
    driver = conn.connection.driver_connection
    if driver is None:  # pragma: no cover - a live connection always has one
        raise RuntimeError("the connection has no driver connection")
    return driver


def execute_each(conn: Connection, sql: str, parameters: Sequence[Any]) -> None:
    """``sql`` once per parameter set, as one executemany of the driver."""
    if not parameters:
        return
    if traced(conn):
        conn.exec_driver_sql(sql, list(parameters))
        return
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, parameters)
    finally:
        cursor.close()


Converter = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A SQLAlchemy statement compiled once to the driver's SQL for rows of given keys.

    ``binds`` are (row key, driver parameter name, converter) in the driver's parameter
    order, the converters those an ordinary execution applies (``bind_processors``), so
    rows written through it read back the same. ``constants`` are the statement's own
    values (an SRID, say), converted; only a dialect with named parameters has room for
    them.
    """

    statement: Any  # kept alive: the cache knows it by its id
    sql: str
    positional: bool
    binds: tuple[tuple[str, str, Converter], ...]
    constants: dict[str, Any]

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Each row's driver parameters: a tuple (positional) or a dict (named)."""
        binds = self.binds
        if self.positional:
            return [
                tuple(convert(row[key]) if convert else row[key] for key, _n, convert in binds)
                for row in rows
            ]
        parameters: list[Any] = []
        for row in rows:
            values = dict(self.constants)
            for key, name, convert in binds:
                value = row[key]
                values[name] = convert(value) if convert else value
            parameters.append(values)
        return parameters


_compiled: dict[tuple[int, str, tuple[str, ...]], DriverStatement] = {}


def driver_statement(
    conn: Connection, statement: ClauseElement, keys: tuple[str, ...]
) -> DriverStatement:
    """``statement`` compiled for ``conn``'s driver and rows with ``keys`` (cached).

    A bind that is neither a key of the rows nor a value of the statement is refused:
    sending it as NULL would write wrong rows without a word. An INSERT asks nothing
    back (no RETURNING), so it runs as one executemany.
    """
    cache_key = (id(statement), conn.dialect.name, keys)
    found = _compiled.get(cache_key)
    if found is not None and found.statement is statement:
        return found
    target = statement.inline() if isinstance(statement, Insert) else statement
    compiled: Any = target.compile(
        dialect=conn.dialect, column_keys=list(keys), compile_kwargs={"render_postcompile": True}
    )
    if not isinstance(compiled, SQLCompiler):  # pragma: no cover - DML always is
        raise TypeError(f"cannot run {statement!r} at the driver level")
    processors: dict[str, Any] = dict(compiled._bind_processors)
    escaped: dict[str, str] = dict(compiled.escaped_bind_names or {})
    positions: list[str] | None = compiled.positiontup
    positional = positions is not None
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    order = list(positions) if positions is not None else list(by_name)
    binds: list[tuple[str, str, Converter]] = []
    constants: dict[str, Any] = {}
    for name in order:
        convert = processors.get(name)
        if name in keys:
            binds.append((name, escaped.get(name, name), convert))
            continue
        bind = by_name[name]
        if bind.required or positional:
            raise ValueError(
                f"the statement binds {name!r}, which the rows do not have (keys: {keys})"
            )
        value = bind.effective_value
        constants[escaped.get(name, name)] = convert(value) if convert else value
    found = DriverStatement(statement, compiled.string, positional, tuple(binds), constants)
    _compiled[cache_key] = found
    return found


def execute_rows(
    conn: Connection, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]
) -> None:
    """``statement`` once per row (rows share their keys), straight to the driver.

    For a handful of rows: each value is converted one by one. Batches convert
    column-wise (``kernel.context.bulk.execute_many``).
    """
    if not rows:
        return
    compiled = driver_statement(conn, statement, tuple(rows[0]))
    execute_each(conn, compiled.sql, compiled.parameters(rows))
