"""A batch's stored values replaced in place: the narrow UPDATE and its history rows.

Most of a batch of live readings replaces values that are stored already, keeping their
kind of copy (a number stays a number). :class:`~smartcity.kernel.context.changes.Changes`
collects each such value as ONE tuple (``NARROW_FIELDS``); here the tuples are turned
column-wise into both statements: the UPDATE of ``context_attribute`` (only the value
columns: the text index is left alone) and the ``context_instance`` history rows with
their series ids. No dict per row, and each column's converter runs once per distinct
value (a batch shares its instants).

- SQLite: the UPDATE finds each row by its row id alone, read with the batch
  (``load_batch``) in the same write transaction, instead of a probe of the
  four-string primary key; the history ``INSERT`` binds the series id read with the
  batch (else finds it by a scalar subquery) and the values: a history row stores no
  key strings and no instanceId (decision 0016). A column with one plain value over
  the batch (``now``, often the observedAt, kind, unit, the NULL copies) is written
  into both statements' text instead of being bound on every row (``_shaped``).
- PostgreSQL: the columns go as binary arrays, one UPDATE joins ``unnest`` of them on
  the key, and one ``INSERT … SELECT`` joined to ``context_series`` records the history
  (both built by :mod:`~smartcity.kernel.context.array_inserts`): typed arrays, no
  JSON to split on the server, no lookup round trip, no per-row Python. The batch use
  cases stream them part by part (:class:`NarrowStream`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from itertools import compress, repeat
from operator import eq, not_
from typing import Any

from sqlalchemy import Connection

from smartcity.kernel.context.array_inserts import column_arrays, record_statement, update_statement
from smartcity.kernel.context.tables import context_attribute, context_instance
from smartcity.kernel.storage.arrays import adapt_arrays, binary_array, convert_column
from smartcity.kernel.storage.base import bind_processors
from smartcity.kernel.storage.driver import driver_of

# One replaced value, as ``Changes.write_instances`` collects it.
NARROW_FIELDS = (
    "entity_id",
    "name",
    "dataset_id",
    "entity_type",
    "kind",
    "value_number",
    "value_text",
    "value_bool",
    "value_json",
    "observed_at",
    "unit_code",
    # SQLite: the row id and the series id of the stored attribute row (None if not
    # read with the batch), and the stored value it replaces if the caller knows it
    # (else None): a number equal to the new one needs no ``value_number`` written.
    "rowid",
    "series_id",
    "stored_value",
)
(
    ENTITY_ID,
    NAME,
    DATASET_ID,
    ENTITY_TYPE,
    KIND,
    NUMBER,
    TEXT,
    FLAG,
    JSON,
    OBSERVED_AT,
    UNIT_CODE,
    ROWID,
    SERIES_ID,
    STORED_VALUE,
) = range(len(NARROW_FIELDS))

# The row id alone: the batch read and this UPDATE run in one write transaction (BEGIN
# IMMEDIATE), so no other connection deletes the row in between, and nothing in the same
# write deletes or re-inserts a row whose value is replaced in place
# (``Changes.check_narrow``): the id still names the row read. A row gone all the same
# is not updated and the rowcount says so. Binding and comparing the four key strings
# cost ~10% of the statement. The statement's SET list is built per batch (``_shaped``).
_UPDATE_BY_KEY = (
    "UPDATE context_attribute SET kind = ?, value_number = ?, value_json = ?, "
    "observed_at = ?, unit_code = ?, modified_at = ? "
    "WHERE tenant = ? AND entity_id = ? AND name = ? AND dataset_id = ?"
)
_HISTORY_COLUMNS = (
    "INSERT INTO context_instance (kind, value_number, value_text, value_bool, value_json, "
    "observed_at, unit_code, recorded_at, deleted, series_id) VALUES "
)
# The row's values (deleted: false as SQLite stores it), then its series id: read with
# the batch, or found by its key (tenant, entity id, name, datasetId, entity type).
_INSERT_HISTORY = (
    _HISTORY_COLUMNS + "(?, ?, ?, ?, ?, ?, ?, ?, 0, "
    "(SELECT id FROM context_series WHERE tenant = ? AND entity_id = ? AND name = ? "
    "AND dataset_id = ? AND entity_type = ?))"
)


def write_narrow(
    conn: Connection,
    tenant: str,
    now: datetime,
    rows: Sequence[tuple[Any, ...]],
    kinds_change: bool = True,
) -> int:
    """Rewrite the stored values of ``rows`` and record their history; rows updated.

    ``kinds_change=False`` says that every value keeps the kind and unitCode stored.
    """
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        return _write_postgres(conn, tenant, now, list(zip(*rows, strict=True)))
    return _write_sqlite(conn, tenant, now, rows, kinds_change)


def _converted(conn: Connection, table: Any, name: str, column: Sequence[Any]) -> Sequence[Any]:
    """``column`` as the driver takes it; a column of one value stays one value."""
    processor = bind_processors(table, [name], conn.dialect)[0]
    if processor is None:
        return column
    if len(column) == 1 or column.count(column[0]) == len(column):
        # The common case of a batch (one observedAt, no boolean copies): one call.
        return (processor(column[0]),)
    return convert_column(list(column), processor)


def _write_sqlite(
    conn: Connection,
    tenant: str,
    now: datetime,
    rows: Sequence[tuple[Any, ...]],
    kinds_change: bool,
) -> int:
    count = len(rows)
    # Column-wise (one transposition in C), each converter once per batch where a
    # column holds one value (``_converted``).
    columns = list(zip(*rows, strict=True))
    # Series ids the rows do not keep yet come negated from the read (``load_batch``):
    # the UPDATE keeps them, so the next batch reads them without a probe.
    kept = _series_to_keep(columns)
    numbers = columns[NUMBER]
    documents = columns[JSON]
    kinds = columns[KIND]
    units = columns[UNIT_CODE]
    observed = _converted(conn, context_attribute, "observed_at", columns[OBSERVED_AT])
    modified = _converted(conn, context_attribute, "modified_at", [now])[0]
    flags = _converted(conn, context_instance, "value_bool", columns[FLAG])
    driver = conn.exec_driver_sql
    rowids = columns[ROWID]
    if None in rowids:
        values = (kinds, numbers, documents, _rows_of(observed, count), units)
        keys = zip(repeat(tenant), columns[ENTITY_ID], columns[NAME], columns[DATASET_ID])
        by_key = map(tuple.__add__, zip(*values, repeat(modified)), keys)
        updated = driver(_UPDATE_BY_KEY, list(by_key)).rowcount
    else:
        changed: list[tuple[str, Sequence[Any]]] = [
            ("value_number", numbers),
            ("value_json", documents),
            ("observed_at", observed),
            ("modified_at", (modified,)),
        ]
        if kinds_change:
            changed += [("kind", kinds), ("unit_code", units)]
        if kept:
            changed.append(("series_id", columns[SERIES_ID]))
        same = list(map(eq, numbers, columns[STORED_VALUE]))
        if True not in same:
            updated = _update_by_rowid(driver, changed, rowids)
        else:
            # A number equal to the one stored is left out of SET: SQLite then leaves the
            # number index alone (its entry deleted and inserted again: ~60% of the
            # UPDATE). Repeated readings are common (a parking spot stays taken).
            # -0.0 equals 0.0, and SQLite stores both as the integer 0 anyway.
            differ = list(map(not_, same))
            updated = _update_by_rowid(driver, _selected(changed, differ), _picked(rowids, differ))
            updated += _update_by_rowid(driver, _selected(changed[1:], same), _picked(rowids, same))
    series = columns[SERIES_ID]
    history: list[tuple[str, Sequence[Any]]] = [
        ("kind", kinds),
        ("value_number", numbers),
        ("value_text", columns[TEXT]),
        ("value_bool", flags),
        ("value_json", documents),
        ("observed_at", observed),
        ("unit_code", units),
        ("recorded_at", (modified,)),
    ]
    if None not in series:
        inserted, bound = _shaped(history, count)
        values_sql = ", ".join(value for _name, value in inserted)
        sql = f"{_HISTORY_COLUMNS}({values_sql}, 0, ?)"
        driver(sql, list(zip(*bound, series, strict=True)))
    else:
        series_keys = (
            repeat(tenant),
            columns[ENTITY_ID],
            columns[NAME],
            columns[DATASET_ID],
            columns[ENTITY_TYPE],
        )
        history_values = (
            *(_rows_of(column, count) for _name, column in history[:-1]),
            repeat(modified),
        )
        driver(_INSERT_HISTORY, list(zip(*history_values, *series_keys, strict=False)))
    return int(updated)


def _series_to_keep(columns: list[tuple[Any, ...]]) -> bool:
    """Whether some row's series id is not kept on its row yet (read negated); the
    column then holds every id as it is (positive)."""
    series = columns[SERIES_ID]
    if None in series or min(series) > 0:
        return False
    columns[SERIES_ID] = tuple(map(abs, series))
    return True


def _update_by_rowid(
    driver: Any, columns: Sequence[tuple[str, Sequence[Any]]], rowids: Sequence[Any]
) -> int:
    """The narrow UPDATE of the rows ``rowids`` (none: nothing to run); rows updated."""
    if not rowids:
        return 0
    sets, bound = _shaped(columns, len(rowids))
    sql = f"UPDATE context_attribute SET {', '.join(f'{n} = {v}' for n, v in sets)}"
    return int(driver(sql + " WHERE rowid = ?", list(zip(*bound, rowids, strict=True))).rowcount)


def _picked(column: Sequence[Any], chosen: Sequence[bool]) -> tuple[Any, ...]:
    """The values of ``column`` where ``chosen`` is true."""
    return tuple(compress(column, chosen))


def _selected(
    columns: Sequence[tuple[str, Sequence[Any]]], chosen: Sequence[bool]
) -> list[tuple[str, Sequence[Any]]]:
    """The rows ``chosen`` of each column (a one-value column stays as it is)."""
    return [
        (name, column if len(column) == 1 else _picked(column, chosen)) for name, column in columns
    ]


def _rows_of(column: Sequence[Any], count: int) -> Sequence[Any]:
    """A column of ``count`` values (a one-value column repeated)."""
    return column if len(column) == count else tuple(column) * count


# A value written into the statement's text rather than bound: SQLite's own timestamp
# text, a kind, a unit code, an integer. Nothing else (no quote, no backslash) can be in it.
_LITERAL = re.compile(r"[0-9A-Za-z :.+\-]{0,64}")


def _shaped(
    columns: Sequence[tuple[str, Sequence[Any]]], count: int
) -> tuple[list[tuple[str, str]], list[Sequence[Any]]]:
    """Each column's SQL value (a ``?``, or a literal), and the columns left to bind.

    A column holding one value over the whole batch (a one-value column is that value
    for every row: ``now``) goes into the statement's text when it is NULL, an integer
    or a plain word such as a timestamp: sqlite3's executemany binds every parameter of
    every row afresh (a timestamp string copied per row), and the batch's statements
    cost ~20% less with their constants written once. The text is prepared once per
    batch.
    """
    shaped: list[tuple[str, str]] = []
    bound: list[Sequence[Any]] = []
    for name, column in columns:
        literal = _literal(column)
        if literal is None:
            shaped.append((name, "?"))
            column = _rows_of(column, count)
            bound.append(column)
        else:
            shaped.append((name, literal))
    return shaped, bound


def _literal(column: Sequence[Any]) -> str | None:
    """``column``'s one value as SQL text, or None (several values, or not plain)."""
    first = column[0]
    if type(first) is float or (len(column) > 1 and column.count(first) != len(column)):
        return None
    if first is None:
        return "NULL"
    if type(first) is int:
        return str(first)
    if type(first) is str and _LITERAL.fullmatch(first):
        return f"'{first}'"
    return None


# A replaced value's columns of ``context_attribute`` and their places in a narrow row.
_POSTGRES_COLUMNS = tuple(
    (context_attribute.c[name], index)
    for index, name in enumerate(NARROW_FIELDS)
    if name not in ("rowid", "series_id", "stored_value")
)
# What the UPDATE sets: the text and boolean copies stay (``Changes.write_instances``).
_SET = ("kind", "value_number", "value_json", "observed_at", "unit_code", "modified_at")
_KEY = ("tenant", "entity_id", "name", "dataset_id")


def postgres_statements(
    conn: Connection, tenant: str, now: datetime, columns: list[tuple[Any, ...]]
) -> tuple[str, str, dict[str, Any]]:
    """The UPDATE and history INSERT of ``write_narrow`` on PostgreSQL, and their parameters.

    Both statements read the same arrays (:func:`~smartcity.kernel.context.array_inserts.
    column_arrays`: a column with one value over the batch, often the type, kind,
    datasetId, unit, observedAt, is bound once); each row names its own attribute row
    and series (``Changes.check_narrow``), so the history rows need no numbering.
    """
    observed = _converted(conn, context_attribute, "observed_at", columns[OBSERVED_AT])
    table = context_attribute.c
    arrays = column_arrays(
        conn,
        [
            (table.tenant, (tenant,)),
            *(
                (column, observed if index == OBSERVED_AT else columns[index])
                for column, index in _POSTGRES_COLUMNS
            ),
            (table.modified_at, (now,)),
        ],
        "entity_id",
    )
    update = update_statement(context_attribute, arrays, _SET, _KEY)
    return update, record_statement(arrays, numbered=False), arrays.parameters


def _write_postgres(
    conn: Connection,
    tenant: str,
    now: datetime,
    columns: list[tuple[Any, ...]],
) -> int:
    adapt_arrays(driver_of(conn))
    update, record, parameters = postgres_statements(conn, tenant, now, columns)
    updated = conn.exec_driver_sql(update, parameters).rowcount
    recorded = conn.exec_driver_sql(record, parameters).rowcount
    return _written(len(columns[ENTITY_ID]), updated, recorded)


def _written(count: int, updated: int, recorded: int) -> int:
    """The rows updated, or fewer if some value's history was not recorded."""
    if recorded != count:
        # A stored attribute row always has its series (decision 0014): a missing one
        # means the row is gone; the caller's check of ``updated`` runs the work again.
        return min(int(updated), int(recorded))
    return int(updated)


_TOUCH = (
    "UPDATE context_entity SET modified_at = %(now)s "
    "WHERE tenant = %(tenant)s AND id = ANY(%(ids)b::text[])"
)


class NarrowStream:
    """PostgreSQL: a batch's values replaced in place, sent part by part as it goes on.

    Inside psycopg's pipeline mode (the caller's): :meth:`send` queues the UPDATE and
    history INSERT of the rows ``Changes.take_narrow`` hands over, and the touch of the
    entities changed since the last call, and returns at once, so the server writes one
    part while the client decodes and merges the next.
    :meth:`written` (after the pipeline ended) says how many rows were updated.
    """

    def __init__(self, conn: Connection, tenant: str, now: datetime) -> None:
        self._conn = conn
        self._tenant = tenant
        self._now = now
        self._driver = driver_of(conn)
        adapt_arrays(self._driver)
        self._sent: list[tuple[int, Any, Any]] = []
        self.count = 0
        self._touches: list[Any] = []

    def send(self, rows: Sequence[tuple[Any, ...]], touched: Sequence[str] = ()) -> None:
        """Queue the statements writing ``rows`` (narrow rows), and the new
        ``modifiedAt`` of the entities ``touched``."""
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        update, record, parameters = postgres_statements(
            self._conn, self._tenant, self._now, columns
        )
        updating, recording = self._driver.cursor(), self._driver.cursor()
        updating.execute(update, parameters)
        recording.execute(record, parameters)
        self._sent.append((len(rows), updating, recording))
        self.count += len(rows)
        if touched:
            # In the pipeline too: one round trip less per 500 entities after it, and
            # the server touches a part while the client merges the next.
            touch = {"tenant": self._tenant, "now": self._now, "ids": binary_array("text", touched)}
            touching = self._driver.cursor()
            touching.execute(_TOUCH, touch)
            self._touches.append(touching)

    def written(self) -> int:
        """Rows updated (fewer than sent if some were gone), once the pipeline is synced."""
        total = 0
        for count, updating, recording in self._sent:
            total += _written(count, updating.rowcount, recording.rowcount)
            updating.close()
            recording.close()
        for touching in self._touches:
            touching.close()
        self._sent, self._touches = [], []
        return total
