"""PostgreSQL: many new rows as ONE statement over arrays, ``INSERT … SELECT … FROM unnest``.

A batch of new entities writes thousands of rows to each context table. psycopg's
``executemany`` sends them as one statement per row (pipelined, but each parsed, bound,
executed and its index entries written one by one: 224–278 µs of database CPU per new
measurement in session 8). Here each column goes as one binary array
(:func:`~smartcity.kernel.storage.arrays.binary_array`), or, holding one value over the
batch (the tenant, ``now``, often the type, kind, datasetId), as that value bound once;
the server reads the rows from ``unnest`` of the arrays in one statement. The SQL text
depends only on which columns are arrays, so the few shapes a batch takes repeat.

Every statement over arrays of the context's write path is built here: the INSERTs of
new rows, the UPDATEs of changed entity rows and of the values a batch replaces in
place (``narrow_writes``), and the history rows joined to their series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, Connection, Table

from smartcity.kernel.context.tables import context_instance, context_series
from smartcity.kernel.storage.arrays import adapt_arrays, binary_array, convert_column
from smartcity.kernel.storage.base import bind_processors
from smartcity.kernel.storage.driver import driver_of
from smartcity.kernel.storage.types import SRID

# By the column's PostgreSQL type (as SQLAlchemy compiles it, up to a parenthesis): the
# element type of the binary array the values go in, and the SQL that turns one element
# (``{}``) into the column's value. Booleans and integers travel as text (``binary_array``
# has no such elements; a batch has few of them); a geometry as the hex of its WKB.
_ENCODINGS: dict[str, tuple[str, str]] = {
    "VARCHAR": ("text", "{}"),
    "TEXT": ("text", "{}"),
    "FLOAT": ("float8", "{}"),
    "TIMESTAMP WITH TIME ZONE": ("timestamptz", "{}"),
    "BOOLEAN": ("text", "{}::bool"),
    "BIGINT": ("text", "{}::int8"),
    "INTEGER": ("text", "{}::int8"),
    "SMALLINT": ("text", "{}::int8"),
    "geometry": ("text", f"ST_GeomFromWKB(decode({{}}, 'hex'), {SRID})"),
}


@dataclass(frozen=True)
class ArrayRows:
    """Rows as SQL: each column's value in a ``SELECT … FROM`` :attr:`source`."""

    # Column name -> SQL of its value in each row (an element of ``unnest``, or a
    # parameter bound once).
    values: dict[str, str]
    # ``unnest(…) WITH ORDINALITY AS u(…)``: the rows, numbered ``u.ordinality`` in order.
    source: str
    parameters: dict[str, Any]

    def select(self, names: Sequence[str]) -> str:
        """The SQL values of ``names``, comma-separated (a SELECT list)."""
        return ", ".join(self.values[name] for name in names)


def _as_text(value: Any) -> str | None:
    """An element sent as text: booleans as PostgreSQL spells them, integers, WKB in hex."""
    if value is None:
        return None
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def array_rows(
    conn: Connection,
    columns: Sequence[Column[Any]],
    rows: Sequence[Mapping[str, Any]],
    rowwise: str,
) -> ArrayRows:
    """``rows`` (each holding every name of ``columns``) as SQL values over arrays.

    Each value is converted as an ordinary INSERT converts it (the column type's bind
    processor, once per distinct value). Column ``rowwise`` is always an array, so the
    source has one row per row even when every other column holds one value.
    """
    data: list[tuple[Column[Any], Sequence[Any]]] = []
    for column in columns:
        table = column.table
        if not isinstance(table, Table):  # pragma: no cover - the context tables' columns
            raise TypeError(f"column {column.name} belongs to no table")
        processor = bind_processors(table, [column.name], conn.dialect)[0]
        values = list(map(itemgetter(column.name), rows))
        data.append((column, values if processor is None else convert_column(values, processor)))
    return column_arrays(conn, data, rowwise)


# Column -> its element type and the SQL of its value (``_ENCODINGS``).
_encoded: dict[Column[Any], tuple[str, str]] = {}


def column_arrays(
    conn: Connection, columns: Sequence[tuple[Column[Any], Sequence[Any]]], rowwise: str
) -> ArrayRows:
    """Columns of values, as the driver takes them, as SQL values over arrays.

    A column of one value stands for every row; column ``rowwise`` (named by its
    column's name) is always an array: it sets the number of rows.
    """
    adapt_arrays(driver_of(conn))
    values: dict[str, str] = {}
    arrays: list[str] = []
    labels: list[str] = []
    parameters: dict[str, Any] = {}
    for number, (column, data) in enumerate(columns):
        name = column.name
        encoding = _encoded.get(column)
        if encoding is None:
            compiled = column.type.compile(dialect=conn.dialect)
            encoding = _encoded[column] = _ENCODINGS[compiled.split("(", 1)[0]]
        element, expression = encoding
        if element == "text" and expression != "{}":
            data = convert_column(list(data), _as_text)
        parameter = f"p{number}"
        if name != rowwise and data.count(data[0]) == len(data):
            parameters[parameter] = data[0]
            values[name] = expression.format(f"%({parameter})s::{element}")
        else:
            parameters[parameter] = binary_array(element, data)
            arrays.append(f"%({parameter})b::{element}[]")
            labels.append(f'"{name}"')
            values[name] = expression.format(f'u."{name}"')
    source = f"unnest({', '.join(arrays)}) WITH ORDINALITY AS u({', '.join(labels)}, ordinality)"
    return ArrayRows(values, source, parameters)


def insert_arrays(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    rowwise: str,
    conflict: str = "",
    arrays: ArrayRows | None = None,
) -> int:
    """INSERT ``rows`` (sharing their keys) into ``table`` as one statement; rows written.

    ``conflict`` is the statement's ``ON CONFLICT …`` clause, if any. Rows go in in
    their order (an upsert must not name one row twice: PostgreSQL refuses to update a
    row twice in one statement). ``arrays``: the rows as :func:`array_rows` made them
    already (for another statement too).
    """
    if not rows:
        return 0
    names = list(rows[0].keys())
    if arrays is None:
        arrays = array_rows(conn, [table.c[name] for name in names], rows, rowwise)
    quoted = ", ".join(f'"{name}"' for name in names)
    sql = (
        f'INSERT INTO "{table.name}" ({quoted}) SELECT {arrays.select(names)} '
        f"FROM {arrays.source} {conflict}"
    )
    return int(conn.exec_driver_sql(sql, arrays.parameters).rowcount)


# A history row as ``Changes`` builds it: its series' key, then what it stores.
_SERIES_KEY = ("tenant", "entity_id", "name", "dataset_id", "entity_type")
_STORED = tuple(
    column.name for column in context_instance.columns if column.name not in ("seq", "series_id")
)
_HISTORY_COLUMNS = [
    *(context_series.c[name] for name in _SERIES_KEY),
    *(context_instance.c[name] for name in _STORED),
]


def insert_history(
    conn: Connection, rows: Sequence[Mapping[str, Any]], written: ArrayRows | None = None
) -> int:
    """History rows built with their series' key, stored with its id; rows written.

    One statement joins the rows to ``context_series`` (each key is unique there), so no
    lookup round trip and no id per row in Python; every series must exist. The rows
    are numbered in their order (``seq``), as ``COPY`` numbers them: a series' rows of
    one instant are told apart by it. ``written``: the arrays of the attribute rows these
    rows record, one for one in order, none deleted (a batch of new values): the same
    columns, recorded when modified, sent once more instead of built again.
    """
    if not rows:
        return 0
    if written is None:
        arrays = array_rows(conn, _HISTORY_COLUMNS, rows, "entity_id")
        sql = _history_statement(arrays.source, arrays.values, True)
    else:
        arrays = written
        sql = record_statement(written)
    return int(conn.exec_driver_sql(sql, arrays.parameters).rowcount)


def record_statement(written: ArrayRows, numbered: bool = True) -> str:
    """The INSERT of the history rows recording attribute rows as ``written`` now.

    ``written`` holds every column of the series' key and of the value; each row is
    recorded at its ``modified_at``, not deleted. ``numbered``: the rows are numbered in
    their order (a series may have several); else each row has its own series.
    """
    values = {**written.values, "recorded_at": written.values["modified_at"]}
    values["deleted"] = "false"
    return _history_statement(written.source, values, numbered)


def _history_statement(source: str, values: Mapping[str, str], numbered: bool) -> str:
    key = " AND ".join(f"s.{name} = {values[name]}" for name in _SERIES_KEY)
    return (
        f"INSERT INTO context_instance (series_id, {', '.join(_STORED)}) "
        f"SELECT s.id, {', '.join(values[name] for name in _STORED)} FROM {source} "
        f"JOIN context_series AS s ON {key}" + (" ORDER BY u.ordinality" if numbered else "")
    )


def update_arrays(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], key: Sequence[str]
) -> int:
    """UPDATE the rows of ``table`` named by ``key`` (columns) to the other values of ``rows``
    as one statement over arrays; rows updated. Each row names a different table row."""
    if not rows:
        return 0
    names = list(rows[0].keys())
    arrays = array_rows(conn, [table.c[name] for name in names], rows, key[-1])
    sql = update_statement(table, arrays, [name for name in names if name not in key], key)
    return int(conn.exec_driver_sql(sql, arrays.parameters).rowcount)


def update_statement(
    table: Table, arrays: ArrayRows, names: Sequence[str], key: Sequence[str]
) -> str:
    """The UPDATE setting columns ``names`` of the rows of ``table`` that ``arrays`` name
    by ``key`` (columns) to their values there."""
    sets = ", ".join(f'"{name}" = {arrays.values[name]}' for name in names)
    where = " AND ".join(f't."{name}" = {arrays.values[name]}' for name in key)
    return f'UPDATE "{table.name}" AS t SET {sets} FROM {arrays.source} WHERE {where}'
