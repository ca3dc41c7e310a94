"""Reading and writing ledger rows: chunked lookups and driver-level batches.

Batches go straight to the driver's ``executemany`` (SQLite's C loop; psycopg's
pipeline), which is what lets a batch of thousands of transfers cost a few statements
rather than thousands of compiled ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Row, Table

from smartcity.kernel.ledger.models import Account, Transfer
from smartcity.kernel.ledger.tables import ledger_account, ledger_pending, ledger_transfer
from smartcity.kernel.storage.driver import any_of, fetch_all

# Bound parameters per IN list: far below SQLite's 32,766 and PostgreSQL's 65,535.
LOOKUP_CHUNK = 4000

ACCOUNT_COLUMNS = (
    "id",
    "ledger",
    "code",
    "flags",
    "user_data",
    "reference",
    "debits_pending",
    "debits_posted",
    "credits_pending",
    "credits_posted",
    "timestamp",
)
# In the order of Transfer's fields, so a row builds one positionally.
TRANSFER_COLUMNS = (
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "ledger",
    "code",
    "flags",
    "pending_id",
    "timeout",
    "user_data",
    "reference",
    "timestamp",
)
BALANCE_COLUMNS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted", "flags")
PENDING_COLUMNS = ("transfer_id", "status", "expires_at", "resolved_at")


def chunks(values: Sequence[int], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def account_of(row: Row[Any]) -> Account:
    return Account(
        id=row.id,
        ledger=row.ledger,
        code=row.code,
        flags=row.flags,
        user_data=row.user_data,
        reference=row.reference,
        debits_pending=row.debits_pending,
        debits_posted=row.debits_posted,
        credits_pending=row.credits_pending,
        credits_posted=row.credits_posted,
        timestamp=row.timestamp,
    )


def transfer_of(row: Row[Any]) -> Transfer:
    return Transfer(
        id=row.id,
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        amount=row.amount,
        pending_id=row.pending_id or 0,
        ledger=row.ledger,
        code=row.code,
        flags=row.flags,
        timeout=row.timeout,
        user_data=row.user_data,
        reference=row.reference,
        timestamp=row.timestamp,
    )


def account_values(account: Account) -> tuple[Any, ...]:
    return (
        account.id,
        account.ledger,
        account.code,
        int(account.flags),
        account.user_data,
        account.reference,
        account.debits_pending,
        account.debits_posted,
        account.credits_pending,
        account.credits_posted,
        account.timestamp,
    )


def transfer_values(transfer: Transfer) -> tuple[Any, ...]:
    return (
        transfer.id,
        transfer.debit_account_id,
        transfer.credit_account_id,
        transfer.amount,
        transfer.ledger,
        transfer.code,
        int(transfer.flags),
        transfer.pending_id or None,
        transfer.timeout,
        transfer.user_data,
        transfer.reference,
        transfer.timestamp,
    )


def _select_by_id(
    conn: Connection, table: Table, columns: str, key: str, ids: Iterable[int], *, lock: bool
) -> list[tuple[Any, ...]]:
    """Rows whose ``key`` is one of ``ids``, in key order, as plain driver tuples.

    Straight to the driver (:mod:`smartcity.kernel.storage.driver`): SQLAlchemy's
    expanding IN costs more than the query itself for thousands of ids.
    """
    ordered = sorted(set(ids))
    found: list[tuple[Any, ...]] = []
    for chunk in chunks(ordered):
        where, parameters = any_of(conn, f'"{key}"', chunk)
        sql = f'SELECT {columns} FROM "{table.name}" WHERE {where} ORDER BY "{key}"'
        if lock and conn.dialect.name == "postgresql":
            # In id order, so two writers touching the same rows queue, not deadlock.
            sql += " FOR UPDATE"
        found.extend(fetch_all(conn, sql, parameters))
    return found


def _execute_many(conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


_ACCOUNT_SELECT = ", ".join(f'"{c}"' for c in ACCOUNT_COLUMNS)
_TRANSFER_SELECT = ", ".join(
    'COALESCE("pending_id", 0)' if c == "pending_id" else f'"{c}"' for c in TRANSFER_COLUMNS
)
_PENDING_SELECT = ", ".join(f'"{c}"' for c in PENDING_COLUMNS)


def select_accounts(conn: Connection, ids: Iterable[int], *, lock: bool = False) -> list[Account]:
    """The accounts with these ids (those that exist), in id order.

    ``lock`` takes row locks on PostgreSQL; SQLite's writer already holds the database
    lock.
    """
    rows = _select_by_id(conn, ledger_account, _ACCOUNT_SELECT, "id", ids, lock=lock)
    return [Account(*row) for row in rows]


def select_transfers(conn: Connection, ids: Iterable[int]) -> list[Transfer]:
    """The transfers with these ids (those that exist)."""
    rows = _select_by_id(conn, ledger_transfer, _TRANSFER_SELECT, "id", ids, lock=False)
    return [Transfer(*row) for row in rows]


def select_pending(
    conn: Connection, ids: Iterable[int], *, lock: bool = False
) -> list[tuple[int, str, int | None, int | None]]:
    """(transfer id, status, expires_at, resolved_at) of these pending transfers."""
    rows = _select_by_id(conn, ledger_pending, _PENDING_SELECT, "transfer_id", ids, lock=lock)
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def insert_many(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT rows (tuples in ``columns`` order): COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.cursor()
        try:
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    marks = ", ".join("?" for _ in columns)
    _execute_many(conn, f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows)


def update_many(
    conn: Connection,
    table: Table,
    key: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """UPDATE rows by ``key``; each tuple holds ``columns`` in order, then the key."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        # One statement over arrays (one per column) rather than a statement per row:
        # a batch's thousands of balance updates become a single join.
        names = (*columns, key)
        types = [table.c[c].type.compile(conn.dialect) for c in names]
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        target = ", ".join(f'"{c}"' for c in names)
        assignments = ", ".join(f'"{c}" = v."{c}"' for c in columns)
        sql = (
            f'UPDATE "{table.name}" SET {assignments} FROM unnest({arrays}) AS v({target}) '
            f'WHERE "{table.name}"."{key}" = v."{key}"'
        )
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, [list(values) for values in zip(*rows, strict=True)])
        finally:
            cursor.close()
        return
    assignments = ", ".join(f'"{c}" = ?' for c in columns)
    _execute_many(conn, f'UPDATE "{table.name}" SET {assignments} WHERE "{key}" = ?', rows)
