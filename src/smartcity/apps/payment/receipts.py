"""E-receipts: the document of a paid bill, in canonical JSON, and its signature.

The document's bytes are exactly what is signed and stored, so the stored text and the
detached signature verify as they are, with the platform's tools or with OpenSSL
(see docs/apps/payment.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

import orjson

from smartcity.apps.payment.models import BillerView, BillView


class ReceiptSigner(Protocol):
    """Signs a receipt document: DER bytes of a detached CMS signature."""

    def prepare(self) -> None:
        """Be ready to sign (load keys); called outside any open transaction."""
        ...

    def sign(self, document: bytes, now: dt.datetime) -> bytes: ...


def receipt_number(order_id: int) -> str:
    return f"R{order_id:012d}"


def yuan_text(amount_fen: int) -> str:
    """``12345`` fen as ``"123.45"`` (exact; no floating point)."""
    return f"{amount_fen // 100}.{amount_fen % 100:02d}"


def receipt_document(
    *,
    order_id: int,
    method: str,
    paid_at: dt.datetime,
    bill: BillView,
    biller: BillerView,
    issued_at: dt.datetime,
) -> bytes:
    """The canonical bytes of a receipt: sorted keys, no spaces, UTF-8."""
    document: dict[str, Any] = {
        "type": "smartcity.payment.receipt",
        "version": 1,
        "number": receipt_number(order_id),
        "issued_at": issued_at.astimezone(dt.UTC).isoformat(),
        "payer": {"kind": bill.payer_kind.value, "identifier": bill.payer_identifier},
        "biller": {"code": biller.code, "name": biller.name, "name_en": biller.name_en},
        "bill": {
            "id": bill.id,
            "number": bill.bill_number,
            "period": bill.period,
            "due_date": bill.due_date.isoformat(),
            "reference": bill.reference,
        },
        "amount_fen": bill.amount_fen,
        "amount_yuan": yuan_text(bill.amount_fen),
        "currency": "CNY",
        "order_id": order_id,
        "method": method,
        "paid_at": paid_at.astimezone(dt.UTC).isoformat(),
    }
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
