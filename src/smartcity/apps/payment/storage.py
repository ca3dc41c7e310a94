"""Reading the payment app's tables (the writing is in ``actions``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Row, and_, select

from smartcity.apps.payment.models import (
    BillerView,
    BillStatus,
    BillView,
    OrderPurpose,
    OrderStatus,
    OrderView,
    Payer,
    PayerKind,
    PaymentMethod,
)
from smartcity.apps.payment.tables import (
    payment_bill,
    payment_biller,
    payment_order,
    payment_payer,
    payment_receipt,
)
from smartcity.kernel.errors import InvalidInput, NotFound

# Bills listed per page at most.
PAGE_LIMIT = 200


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def bill_of(row: Row[Any]) -> BillView:
    return BillView(
        id=row.id,
        biller_code=row.biller_code,
        bill_number=row.bill_number,
        payer_kind=PayerKind(row.payer_kind),
        payer_identifier=row.payer_identifier,
        amount_fen=row.amount_fen,
        period=row.period,
        due_date=row.due_date,
        reference=row.reference,
        status=BillStatus(row.status),
        issued_at=aware(row.issued_at),
        paid_at=aware(row.paid_at),
        order_id=row.order_id,
    )


def order_of(row: Row[Any], *, bank_url: str | None = None) -> OrderView:
    status = OrderStatus(row.status)
    pay_url = None
    if bank_url and row.bank_reference and status == OrderStatus.PENDING:
        pay_url = f"{bank_url.rstrip('/')}/pay/{row.bank_reference}"
    return OrderView(
        id=row.id,
        request_id=row.request_id,
        purpose=OrderPurpose(row.purpose),
        bill_id=row.bill_id,
        biller_code=row.biller_code,
        method=PaymentMethod(row.method),
        amount_fen=row.amount_fen,
        status=status,
        created_at=aware(row.created_at),
        expires_at=aware(row.expires_at),
        confirmed_at=aware(row.confirmed_at),
        settled_at=aware(row.settled_at),
        bank_reference=row.bank_reference,
        failure_reason=row.failure_reason,
        bank_pay_url=pay_url,
    )


def list_billers(conn: Connection) -> list[BillerView]:
    rows = conn.execute(select(payment_biller).order_by(payment_biller.c.code)).all()
    return [
        BillerView(
            code=r.code,
            department_code=r.department_code,
            name=r.name,
            name_en=r.name_en,
            active=r.active,
        )
        for r in rows
    ]


def get_biller(conn: Connection, code: str) -> BillerView:
    for biller in list_billers(conn):
        if biller.code == code:
            return biller
    raise NotFound(f"no biller {code!r}", biller=code)


def get_bill(conn: Connection, bill_id: int) -> BillView:
    row = conn.execute(select(payment_bill).where(payment_bill.c.id == bill_id)).first()
    if row is None:
        raise NotFound(f"no bill {bill_id}", bill=bill_id)
    return bill_of(row)


def bill_of_payer(conn: Connection, payer: Payer, bill_id: int) -> BillView:
    """The payer's bill; another payer's bill is reported as absent, never as forbidden."""
    row = conn.execute(
        select(payment_bill).where(
            payment_bill.c.id == bill_id,
            payment_bill.c.payer_kind == payer.kind.value,
            payment_bill.c.payer_identifier == payer.identifier,
        )
    ).first()
    if row is None:
        raise NotFound(f"you have no bill {bill_id}", bill=bill_id)
    return bill_of(row)


def bills_of(
    conn: Connection,
    payer: Payer,
    *,
    status: BillStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[BillView]:
    """The payer's bills, newest first (``status`` filters; paid ones are the history)."""
    if not 1 <= limit <= PAGE_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {PAGE_LIMIT}", part="limit")
    if offset < 0:
        raise InvalidInput("offset must not be negative", part="offset")
    condition = and_(
        payment_bill.c.payer_kind == payer.kind.value,
        payment_bill.c.payer_identifier == payer.identifier,
    )
    if status is not None:
        condition = and_(condition, payment_bill.c.status == status.value)
    rows = conn.execute(
        select(payment_bill)
        .where(condition)
        .order_by(payment_bill.c.issued_at.desc(), payment_bill.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [bill_of(r) for r in rows]


def order_by_request(conn: Connection, payer: Payer, request_id: str) -> Row[Any] | None:
    return conn.execute(
        select(payment_order).where(
            payment_order.c.payer_kind == payer.kind.value,
            payment_order.c.payer_identifier == payer.identifier,
            payment_order.c.request_id == request_id,
        )
    ).first()


def order_row(conn: Connection, order_id: int) -> Row[Any]:
    row = conn.execute(select(payment_order).where(payment_order.c.id == order_id)).first()
    if row is None:
        raise NotFound(f"no payment order {order_id}", order=order_id)
    return row


def order_of_payer(conn: Connection, payer: Payer, order_id: int) -> Row[Any]:
    row = conn.execute(
        select(payment_order).where(
            payment_order.c.id == order_id,
            payment_order.c.payer_kind == payer.kind.value,
            payment_order.c.payer_identifier == payer.identifier,
        )
    ).first()
    if row is None:
        raise NotFound(f"you have no payment order {order_id}", order=order_id)
    return row


def orders_of(
    conn: Connection, payer: Payer, *, limit: int = 50, offset: int = 0
) -> list[Row[Any]]:
    if not 1 <= limit <= PAGE_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {PAGE_LIMIT}", part="limit")
    if offset < 0:
        raise InvalidInput("offset must not be negative", part="offset")
    return list(
        conn.execute(
            select(payment_order)
            .where(
                payment_order.c.payer_kind == payer.kind.value,
                payment_order.c.payer_identifier == payer.identifier,
            )
            .order_by(payment_order.c.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    )


def payer_row(conn: Connection, payer: Payer) -> Row[Any] | None:
    return conn.execute(
        select(payment_payer).where(
            payment_payer.c.kind == payer.kind.value,
            payment_payer.c.identifier == payer.identifier,
        )
    ).first()


def receipt_row(conn: Connection, order_id: int) -> Row[Any] | None:
    return conn.execute(
        select(payment_receipt).where(payment_receipt.c.order_id == order_id)
    ).first()


def confirmed_without_receipt(conn: Connection, limit: int = 100) -> list[int]:
    """Bill orders whose money is in but whose receipt is not issued yet."""
    rows = conn.execute(
        select(payment_order.c.id)
        .outerjoin(payment_receipt, payment_receipt.c.order_id == payment_order.c.id)
        .where(
            payment_order.c.purpose == OrderPurpose.BILL.value,
            payment_order.c.status.in_([OrderStatus.CONFIRMED.value, OrderStatus.SETTLED.value]),
            payment_receipt.c.order_id.is_(None),
        )
        .order_by(payment_order.c.id)
        .limit(limit)
    ).all()
    return [r.id for r in rows]
