"""Statements at the DB-API driver level, for hot paths that run the same few queries.

Inside the caller's transaction (the DBAPI cursor of the same connection), without
building and compiling a SQLAlchemy statement per call: for a handful of rows that
costs more than the query. The SQL text is the caller's; these helpers only bridge the
two drivers' differences (parameter markers, lists of values) and the column types'
conversions that plain driver rows skip.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Column, Connection
from sqlalchemy.engine import Dialect


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


def fetch_all(conn: Connection, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run ``sql`` on the connection's DBAPI cursor; the rows as plain driver tuples.

    Values come back as the driver gives them: see :func:`result_processor` for the
    column types SQLAlchemy converts (SQLite's datetimes are text).
    """
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, tuple(parameters))
        return cast(list[tuple[Any, ...]], cursor.fetchall())
    finally:
        cursor.close()


def result_processor(column: Column[Any], dialect: Dialect) -> Any:
    """The converter SQLAlchemy applies to ``column``'s raw values on ``dialect`` (or None)."""
    return column.type.dialect_impl(dialect).result_processor(dialect, None)
