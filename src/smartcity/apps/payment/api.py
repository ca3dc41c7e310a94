"""What other apps may call of the payment app: small, typed, read-only.

The citizen page shows a payer's bills due and wallet balance with these, inside its own
read connection, instead of calling the payment HTTP API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Connection, and_, exists, func, literal, select

from smartcity.apps.payment import postings
from smartcity.apps.payment.models import BillStatus, BillView, PayerKind, WalletView
from smartcity.apps.payment.storage import bill_of
from smartcity.apps.payment.tables import payment_bill

__all__ = [
    "BillStatus",
    "BillView",
    "BillsDue",
    "PayerKind",
    "WalletView",
    "bills_due",
    "unpaid_bill_due",
    "wallet",
]

# A bill still to be paid: open, or a bank payment under way that may yet fail.
UNPAID = (BillStatus.OPEN.value, BillStatus.PENDING.value)


@dataclass(frozen=True)
class BillsDue:
    """A payer's unpaid bills: how many, their total, and the first few by due date."""

    count: int
    total_fen: int
    next: list[BillView]


def bills_due(conn: Connection, kind: PayerKind, identifier: str, *, first: int = 3) -> BillsDue:
    """The payer's open bills (a bank payment under way counts as settled for now)."""
    owner = (
        payment_bill.c.payer_kind == PayerKind(kind).value,
        payment_bill.c.payer_identifier == identifier,
        payment_bill.c.status == BillStatus.OPEN.value,
    )
    count, total = conn.execute(
        select(func.count(), func.coalesce(func.sum(payment_bill.c.amount_fen), 0)).where(*owner)
    ).one()
    rows = conn.execute(
        select(payment_bill)
        .where(*owner)
        .order_by(payment_bill.c.due_date, payment_bill.c.id)
        .limit(max(0, first))
    ).all()
    return BillsDue(count=int(count), total_fen=int(total), next=[bill_of(row) for row in rows])


def wallet(conn: Connection, kind: PayerKind, identifier: str) -> WalletView:
    """The payer's wallet balance (zero when no wallet was opened yet)."""
    account_id = postings.wallet_account_id(PayerKind(kind).value, identifier)
    found = postings.balances(conn, [account_id]).get(account_id)
    if found is None:
        return WalletView(account_id=account_id, balance_fen=0, available_fen=0, incoming_fen=0)
    return WalletView(
        account_id=account_id,
        balance_fen=found.balance,
        available_fen=found.available,
        incoming_fen=found.credits_pending,
    )


def unpaid_bill_due(
    national_id: ColumnElement[str], first: date, last: date, billers: Sequence[str] = ()
) -> ColumnElement[bool]:
    """SQL: the citizen ``national_id`` has an unpaid bill due between ``first`` and ``last``.

    For a query over persons (``identity_citizen.c.national_id``, say); ``billers``
    (codes), when given, limits it to their bills.
    """
    conditions = [
        payment_bill.c.payer_kind == PayerKind.CITIZEN.value,
        payment_bill.c.payer_identifier == national_id,
        payment_bill.c.status.in_(UNPAID),
        payment_bill.c.due_date.between(first, last),
    ]
    if billers:
        conditions.append(payment_bill.c.biller_code.in_(list(billers)))
    return exists(select(literal(1)).select_from(payment_bill).where(and_(*conditions)))
