"""The daily reconciliation report of each biller: orders, ledger postings, settlement.

Three independent records of one business day must agree to the fen: the payment
orders confirmed that day, the ledger transfers those orders made into the biller's
receivable account (read back from the ledger by their ids, not from the orders), and
the settlement transfer that passed the day on to the biller.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select

from smartcity.apps.payment import postings
from smartcity.apps.payment.models import OrderPurpose, OrderStatus, PaymentMethod
from smartcity.apps.payment.tables import payment_biller, payment_order, payment_settlement
from smartcity.kernel.ledger import lookup_transfers


class BillerReconciliation(BaseModel):
    model_config = ConfigDict(frozen=True)

    biller_code: str
    bills_paid: int
    amount_fen: int
    wallet_payments: int
    wallet_amount_fen: int
    bank_payments: int
    bank_amount_fen: int
    ledger_postings: int
    ledger_amount_fen: int
    settled: bool
    settlement_amount_fen: int
    settlement_ledger_amount_fen: int
    difference_fen: int
    balanced: bool


class ReconciliationReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_date: dt.date
    billers: list[BillerReconciliation]
    bills_paid: int
    amount_fen: int
    ledger_amount_fen: int
    settlement_amount_fen: int
    balanced: bool


def _posting_step(method: str) -> str:
    # A wallet payment posts at once; a bank payment's money lands when it is posted.
    return "pay" if method == PaymentMethod.WALLET.value else "post"


def reconcile_day(conn: Connection, business_date: dt.date) -> ReconciliationReport:
    """Compare orders, ledger postings and settlement of ``business_date`` per biller."""
    billers = [r.code for r in conn.execute(select(payment_biller.c.code).order_by("code"))]
    orders = conn.execute(
        select(payment_order).where(
            payment_order.c.business_date == business_date,
            payment_order.c.purpose == OrderPurpose.BILL.value,
            payment_order.c.status.in_([OrderStatus.CONFIRMED.value, OrderStatus.SETTLED.value]),
        )
    ).all()
    settlements = {
        r.biller_code: r
        for r in conn.execute(
            select(payment_settlement).where(payment_settlement.c.business_date == business_date)
        )
    }
    transfer_ids = {
        o.id: postings.order_transfer_id(
            o.payer_kind, o.payer_identifier, o.request_id, _posting_step(o.method)
        )
        for o in orders
    }
    wanted = list(transfer_ids.values()) + [s.transfer_id for s in settlements.values()]
    transfers = {t.id: t for t in lookup_transfers(conn, wanted)} if wanted else {}
    lines: list[BillerReconciliation] = []
    for code in billers:
        mine = [o for o in orders if o.biller_code == code]
        receivable = postings.receivable_account_id(code)
        posted = [
            transfers[transfer_ids[o.id]]
            for o in mine
            if transfer_ids[o.id] in transfers
            and transfers[transfer_ids[o.id]].credit_account_id in (receivable, 0)
        ]
        settlement = settlements.get(code)
        settlement_transfer = transfers.get(settlement.transfer_id) if settlement else None
        amount = sum(o.amount_fen for o in mine)
        ledger_amount = sum(t.amount for t in posted)
        settlement_amount = settlement.amount_fen if settlement else 0
        settlement_ledger = settlement_transfer.amount if settlement_transfer else 0
        wallet = [o for o in mine if o.method == PaymentMethod.WALLET.value]
        bank = [o for o in mine if o.method == PaymentMethod.BANK.value]
        difference = ledger_amount - amount
        balanced = (
            difference == 0
            and len(posted) == len(mine)
            and (settlement is None or settlement_amount == settlement_ledger == amount)
        )
        if not mine and settlement is None:
            continue
        lines.append(
            BillerReconciliation(
                biller_code=code,
                bills_paid=len(mine),
                amount_fen=amount,
                wallet_payments=len(wallet),
                wallet_amount_fen=sum(o.amount_fen for o in wallet),
                bank_payments=len(bank),
                bank_amount_fen=sum(o.amount_fen for o in bank),
                ledger_postings=len(posted),
                ledger_amount_fen=ledger_amount,
                settled=settlement is not None,
                settlement_amount_fen=settlement_amount,
                settlement_ledger_amount_fen=settlement_ledger,
                difference_fen=difference,
                balanced=balanced,
            )
        )
    return ReconciliationReport(
        business_date=business_date,
        billers=lines,
        bills_paid=sum(line.bills_paid for line in lines),
        amount_fen=sum(line.amount_fen for line in lines),
        ledger_amount_fen=sum(line.ledger_amount_fen for line in lines),
        settlement_amount_fen=sum(line.settlement_amount_fen for line in lines),
        balanced=all(line.balanced for line in lines),
    )
