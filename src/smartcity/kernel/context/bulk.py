"""Many-row statements at driver speed.

SQLAlchemy's executemany path converts every bound value through its type (for our
timestamps: to UTC, then to SQLite's text form), row by row, which costs more than
SQLite's own work for a batch upsert. Here a statement is compiled once per dialect and
column set, and each converter runs once per *distinct* value of a column: a batch shares one
``now`` and often one ``observedAt``. PostgreSQL keeps SQLAlchemy's path, whose
multi-row VALUES batching is already what the server wants.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Executable, Table
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from smartcity.kernel.storage.base import bind_processors

_compiled: dict[tuple[int, str, tuple[str, ...]], tuple[str, list[str], list[Any]]] = {}


def _compile(
    conn: Connection, statement: ClauseElement, keys: tuple[str, ...]
) -> tuple[str, list[str], list[Any]]:
    cache_key = (id(statement), conn.dialect.name, keys)
    found = _compiled.get(cache_key)
    if found is None:
        compiled = statement.compile(dialect=conn.dialect, column_keys=list(keys))
        if not isinstance(compiled, SQLCompiler):  # pragma: no cover - DML always is
            raise TypeError(f"cannot run {statement!r} as a many-row statement")
        names = list(compiled.positiontup or [])
        processors = [compiled._bind_processors.get(name) for name in names]
        found = (compiled.string, names, processors)
        _compiled[cache_key] = found
    return found


def convert_column(column: list[Any], processor: Callable[[Any], Any]) -> list[Any]:
    """``processor`` applied to every value, once per distinct value when they hash."""
    try:
        table = {value: processor(value) for value in set(column)}
    except TypeError:  # unhashable values
        return [processor(value) for value in column]
    return list(map(table.__getitem__, column))


def execute_many(
    conn: Connection, statement: Executable, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Run ``statement`` once per row (rows share their keys) as one executemany."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(statement, list(rows))
        return
    if not isinstance(statement, ClauseElement):  # pragma: no cover - always a DML construct
        raise TypeError(f"cannot run {statement!r} as a many-row statement")
    sql, names, processors = _compile(conn, statement, tuple(rows[0].keys()))
    # Column by column: itemgetter and map run in C, and each converter sees each
    # distinct value once (a batch shares its timestamps).
    columns = [list(map(itemgetter(name), rows)) for name in names]
    for index, processor in enumerate(processors):
        if processor is not None:
            columns[index] = convert_column(columns[index], processor)
    conn.exec_driver_sql(sql, list(zip(*columns, strict=True)))


def random_uuids(count: int) -> list[str]:
    """``count`` random (version 4) UUIDs as text, from one read of the OS generator.

    ``uuid.uuid4()`` costs a system call and an object per id; a batch of ten thousand
    attribute instances needs ten thousand ids.
    """
    raw = os.urandom(16 * count).hex()
    ids = []
    variants = "89ab"
    for index in range(count):
        h = raw[32 * index : 32 * index + 32]
        variant = variants[int(h[16], 16) & 3]
        ids.append(f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}")
    return ids


def update_many(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    key: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """``UPDATE table SET columns WHERE key`` once per row, at driver level (SQLite).

    Only the named columns are set, so SQLite leaves alone every index that has none of
    them: cheaper than an upsert, which rewrites all the row's indexed values.
    """
    if not rows:
        return
    names = [*columns, *key]
    sets = ", ".join(f'"{c}" = ?' for c in columns)
    where = " AND ".join(f'"{c}" = ?' for c in key)
    sql = f'UPDATE "{table.name}" SET {sets} WHERE {where}'
    values = [list(map(itemgetter(name), rows)) for name in names]
    for index, processor in enumerate(bind_processors(table, names, conn.dialect)):
        if processor is not None:
            values[index] = convert_column(values[index], processor)
    conn.exec_driver_sql(sql, list(zip(*values, strict=True)))
