"""Reading and writing ledger rows: chunked lookups and driver-level batches.

Batches go straight to the driver's ``executemany`` (SQLite's C loop; psycopg's
pipeline), which is what lets a batch of thousands of transfers cost a few statements
rather than thousands of compiled ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Row, Table, select

from smartcity.kernel.ledger.models import Account, Transfer
from smartcity.kernel.ledger.tables import ledger_account, ledger_pending, ledger_transfer

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
TRANSFER_COLUMNS = (
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "pending_id",
    "ledger",
    "code",
    "flags",
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
        transfer.pending_id or None,
        transfer.ledger,
        transfer.code,
        int(transfer.flags),
        transfer.timeout,
        transfer.user_data,
        transfer.reference,
        transfer.timestamp,
    )


def select_accounts(conn: Connection, ids: Iterable[int], *, lock: bool = False) -> list[Account]:
    """The accounts with these ids (those that exist), in id order.

    ``lock`` takes row locks on PostgreSQL (``FOR UPDATE``, in id order so two writers
    touching the same accounts queue rather than deadlock); SQLite's writer already
    holds the database lock.
    """
    ordered = sorted(set(ids))
    found: list[Account] = []
    for chunk in chunks(ordered):
        query = select(ledger_account).where(ledger_account.c.id.in_(chunk))
        query = query.order_by(ledger_account.c.id)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found.extend(account_of(row) for row in conn.execute(query))
    return found


def select_transfers(conn: Connection, ids: Iterable[int]) -> list[Transfer]:
    """The transfers with these ids (those that exist)."""
    ordered = sorted(set(ids))
    found: list[Transfer] = []
    for chunk in chunks(ordered):
        query = select(ledger_transfer).where(ledger_transfer.c.id.in_(chunk))
        found.extend(transfer_of(row) for row in conn.execute(query))
    return found


def select_pending(
    conn: Connection, ids: Iterable[int], *, lock: bool = False
) -> list[tuple[int, str, int | None, int | None]]:
    """(transfer id, status, expires_at, resolved_at) of these pending transfers."""
    ordered = sorted(set(ids))
    found: list[tuple[int, str, int | None, int | None]] = []
    for chunk in chunks(ordered):
        query = select(
            ledger_pending.c.transfer_id,
            ledger_pending.c.status,
            ledger_pending.c.expires_at,
            ledger_pending.c.resolved_at,
        ).where(ledger_pending.c.transfer_id.in_(chunk))
        query = query.order_by(ledger_pending.c.transfer_id)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found.extend((r[0], r[1], r[2], r[3]) for r in conn.execute(query))
    return found


def _marker(conn: Connection) -> str:
    return "?" if conn.dialect.name == "sqlite" else "%s"


def insert_many(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT rows (tuples in ``columns`` order) with one driver-level executemany."""
    if not rows:
        return
    mark = _marker(conn)
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(mark for _ in columns)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', list(rows))


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
    mark = _marker(conn)
    assignments = ", ".join(f'"{c}" = {mark}' for c in columns)
    sql = f'UPDATE "{table.name}" SET {assignments} WHERE "{key}" = {mark}'
    conn.exec_driver_sql(sql, list(rows))
