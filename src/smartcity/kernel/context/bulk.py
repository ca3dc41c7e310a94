"""Many-row statements at driver speed.

SQLAlchemy's executemany path converts every bound value through its type (for our
timestamps: to UTC, then to SQLite's text form), row by row, which costs more than
SQLite's own work for a batch upsert. Here a statement is compiled once per dialect and
column set, and each converter runs once per *distinct* value: a batch shares one
``now`` and often one ``observedAt``. PostgreSQL keeps SQLAlchemy's path, whose
multi-row VALUES batching is already what the server wants.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

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


def memoized(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``processor`` with its results remembered for hashable values."""
    memo: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return memo[value]
        except KeyError:
            result = memo[value] = processor(value)
            return result
        except TypeError:  # unhashable
            return processor(value)

    return convert


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
    getter = itemgetter(*names)
    converted = [(i, memoized(p)) for i, p in enumerate(processors) if p is not None]
    values: list[Any]
    if len(names) == 1:
        values = [(row[names[0]],) for row in rows]
        if converted:
            values = [(converted[0][1](value[0]),) for value in values]
    elif converted:
        values = []
        for row in rows:
            items = list(getter(row))
            for index, convert in converted:
                items[index] = convert(items[index])
            values.append(tuple(items))
    else:
        values = [getter(row) for row in rows]
    conn.exec_driver_sql(sql, values)


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
