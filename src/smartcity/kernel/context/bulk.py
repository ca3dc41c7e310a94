"""Many-row statements at driver speed.

SQLAlchemy's executemany path converts every bound value through its type (for our
timestamps: to UTC, then to SQLite's text form), row by row, which costs more than
SQLite's own work for a batch upsert. Here a statement is compiled once per dialect and
column set, and each converter runs once per *distinct* value of a column: a batch shares one
``now`` and often one ``observedAt``. PostgreSQL keeps SQLAlchemy's path, whose
multi-row VALUES batching is already what the server wants.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.sql import ClauseElement

from smartcity.kernel.storage.arrays import convert_column
from smartcity.kernel.storage.driver import driver_statement


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
    compiled = driver_statement(conn, statement, tuple(rows[0].keys()))
    keys = [key for key, _name, _convert in compiled.binds]
    converters = [convert for _key, _name, convert in compiled.binds]
    conn.exec_driver_sql(compiled.sql, driver_rows(rows, keys, converters))


def _getter(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A C-level function taking a tuple of ``names`` out of a row (a tuple even for one)."""
    if len(names) == 1:
        single = itemgetter(names[0])
        return lambda row: (single(row),)
    return itemgetter(*names)


def driver_rows(
    rows: Sequence[Mapping[str, Any]], names: Sequence[str], processors: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """The driver's parameter tuples: ``names`` of each row, converted by ``processors``.

    Every step runs in C over the whole batch (itemgetter, map, zip): the values that
    need no conversion come out of each row at once, each converted column separately
    (each converter sees each distinct value once: a batch shares its timestamps), and
    one more itemgetter puts each tuple back in the statement's order.
    """
    converted = [index for index, processor in enumerate(processors) if processor is not None]
    if not converted:
        return list(map(_getter(names), rows))
    plain = [index for index in range(len(names)) if processors[index] is None]
    columns = [
        convert_column(list(map(itemgetter(names[index]), rows)), processors[index])
        for index in converted
    ]
    if not plain:
        return list(zip(*columns, strict=True))
    joined = list(
        map(
            operator.add,
            map(_getter([names[index] for index in plain]), rows),
            zip(*columns, strict=True),
        )
    )
    where = {index: position for position, index in enumerate(plain + converted)}
    order = [where[index] for index in range(len(names))]
    return list(map(itemgetter(*order), joined)) if len(order) > 1 else joined
