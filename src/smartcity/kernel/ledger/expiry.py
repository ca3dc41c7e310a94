"""Expiring pending transfers whose timeout has run out.

Posting or voiding an expired transfer already fails (``pending_transfer_expired``)
the moment its time is up; this job releases the amounts it still holds. It is driven
by the injected clock, so simulations and tests decide when time passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.ledger.models import AccountFlags, TransferFlags, timestamp_of
from smartcity.kernel.ledger.rows import BALANCE_COLUMNS, select_accounts, update_many
from smartcity.kernel.ledger.tables import ledger_account, ledger_pending, ledger_transfer
from smartcity.kernel.ledger.transfers import EXPIRED, PENDING, Balance


@dataclass(frozen=True, slots=True)
class Expiry:
    """What one run of the expiry job did."""

    expired: tuple[int, ...]
    """Ids of the pending transfers that expired, oldest deadline first."""


def expire_pending_transfers(conn: Connection, now: datetime, *, limit: int = 10_000) -> Expiry:
    """Expire up to ``limit`` pending transfers whose deadline is at or before ``now``.

    Releases their pending amounts and reopens accounts that an expired closing
    transfer had closed. Call again while it returns ``limit`` ids.
    """
    if now.tzinfo is None:
        raise InvalidInput("the ledger needs a timezone-aware time")
    if limit < 1:
        raise InvalidInput("limit must be at least 1")
    at = timestamp_of(now)
    p, t = ledger_pending.c, ledger_transfer.c
    query = (
        select(p.transfer_id, t.debit_account_id, t.credit_account_id, t.amount, t.flags)
        .join(ledger_transfer, t.id == p.transfer_id)
        .where(p.status == PENDING, p.expires_at.is_not(None), p.expires_at <= at)
        .order_by(p.expires_at, p.transfer_id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=ledger_pending, skip_locked=True)
    rows = conn.execute(query).all()
    if not rows:
        return Expiry(())
    account_ids = {r.debit_account_id for r in rows} | {r.credit_account_id for r in rows}
    balances = {a.id: Balance(a) for a in select_accounts(conn, account_ids, lock=True)}
    for row in rows:
        debit, credit = balances[row.debit_account_id], balances[row.credit_account_id]
        debit.debits_pending -= row.amount
        credit.credits_pending -= row.amount
        if row.flags & TransferFlags.CLOSING_DEBIT:
            debit.flags &= ~int(AccountFlags.CLOSED)
        if row.flags & TransferFlags.CLOSING_CREDIT:
            credit.flags &= ~int(AccountFlags.CLOSED)
    update_many(
        conn,
        ledger_pending,
        "transfer_id",
        ("status", "resolved_at"),
        [(EXPIRED, at, row.transfer_id) for row in rows],
    )
    update_many(
        conn,
        ledger_account,
        "id",
        BALANCE_COLUMNS,
        [(*b.snapshot(), b.id) for b in (balances[i] for i in sorted(balances))],
    )
    return Expiry(tuple(row.transfer_id for row in rows))
