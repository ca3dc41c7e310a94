"""Events the payment app publishes after its transactions commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smartcity.kernel.bus import Event


@dataclass(frozen=True)
class BillIssued(Event):
    topic: ClassVar[str] = "payment.bill_issued"

    bill_id: int
    biller_code: str
    amount_fen: int


@dataclass(frozen=True)
class OrderConfirmed(Event):
    """The money of an order is in: a bill is paid or a wallet topped up."""

    topic: ClassVar[str] = "payment.order_confirmed"

    order_id: int
    purpose: str
    bill_id: int | None
    amount_fen: int


@dataclass(frozen=True)
class OrderFailed(Event):
    """A bank order was refused or expired; a bill it was for is open again."""

    topic: ClassVar[str] = "payment.order_failed"

    order_id: int
    status: str


@dataclass(frozen=True)
class ReceiptIssued(Event):
    topic: ClassVar[str] = "payment.receipt_issued"

    order_id: int
    bill_id: int
    number: str


@dataclass(frozen=True)
class DaySettled(Event):
    topic: ClassVar[str] = "payment.day_settled"

    biller_code: str
    business_date: str
    orders: int
    amount_fen: int
