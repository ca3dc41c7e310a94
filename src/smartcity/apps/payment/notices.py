"""Telling payers what happened: the payment app's one door to the notifications.

Every call runs inside the caller's transaction (``smartcity.kernel.notify``), so a
notification exists exactly when what it announces does. Bills are announced to the
payer's platform account when there is one (a citizen's national ID or an enterprise's
USCC is its user name). A paid bill is announced once, with its receipt and in the
receipt's transaction: "receipt ready" names the payment (amount, payee) and the signed
receipt, so the hot path of paying writes no notices, and a receipt issued after a crash
brings its notice with it. A top-up has no receipt, so its "payment received" goes out
when the bank confirms it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from smartcity.apps.payment.models import BillView, Payer
from smartcity.apps.payment.receipts import yuan_text
from smartcity.kernel.bus import Bus
from smartcity.kernel.identity.account_tables import identity_account
from smartcity.kernel.identity.accounts import find_account_row
from smartcity.kernel.notify import Category, notify

CITY_ZONE = ZoneInfo("Asia/Shanghai")


def account_of(conn: Connection, payer: Payer) -> int | None:
    """The platform account of a payer, if they have one."""
    row = find_account_row(conn, username=payer.identifier)
    if row is None or row.kind != payer.kind.value:
        return None
    account_id: int = row.id
    return account_id


def accounts_of(conn: Connection, payers: Sequence[Payer]) -> dict[Payer, int]:
    """The platform accounts of many payers (those that have one), in chunks."""
    found: dict[Payer, int] = {}
    wanted = {p.identifier: p for p in payers}
    names = sorted(wanted)
    for start in range(0, len(names), 1000):
        rows = conn.execute(
            select(
                identity_account.c.id, identity_account.c.username, identity_account.c.kind
            ).where(identity_account.c.username.in_(names[start : start + 1000]))
        )
        for row in rows:
            payer = wanted[row.username]
            if row.kind == payer.kind.value:
                found[payer] = row.id
    return found


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(CITY_ZONE).strftime("%Y-%m-%d %H:%M")


def notify_bill_issued(
    conn: Connection,
    bus: Bus | None,
    bill: BillView,
    biller_name: str,
    now: dt.datetime,
    *,
    account_id: int | None = None,
) -> None:
    """Announce a bill (the payer's account is looked up unless given)."""
    if account_id is None:
        account_id = account_of(conn, Payer(bill.payer_kind, bill.payer_identifier))
    if account_id is None:
        return
    notify(
        conn,
        account_id,
        "bill_issued",
        {
            "biller": biller_name,
            "amount": yuan_text(bill.amount_fen),
            "period": bill.period,
            "due_date": bill.due_date.isoformat(),
            "bill_number": bill.bill_number,
        },
        Category.BILL,
        now,
        bus=bus,
    )


def notify_payment_received(
    conn: Connection,
    bus: Bus | None,
    account_id: int | None,
    *,
    amount_fen: int,
    payee: str,
    paid_at: dt.datetime,
    transfer_id: int,
    now: dt.datetime,
) -> None:
    if account_id is None:
        return
    notify(
        conn,
        account_id,
        "payment_received",
        {
            "amount": yuan_text(amount_fen),
            "payee": payee,
            "paid_at": _local(paid_at),
            "transfer_id": str(transfer_id),
        },
        Category.PAYMENT,
        now,
        bus=bus,
    )


def notify_receipt_ready(
    conn: Connection,
    bus: Bus | None,
    account_id: int | None,
    *,
    receipt_number: str,
    amount_fen: int,
    payee: str,
    now: dt.datetime,
) -> None:
    if account_id is None:
        return
    notify(
        conn,
        account_id,
        "receipt_ready",
        {"receipt_number": receipt_number, "amount": yuan_text(amount_fen), "payee": payee},
        Category.PAYMENT,
        now,
        bus=bus,
    )
