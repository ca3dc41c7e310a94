"""What the payment app's use cases take and answer with.

Amounts are integer fen everywhere (1 yuan = 100 fen). Requests are validated by
pydantic at the edge; the ranges here are the first line, the ledger the last.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

# The ledger keeps every amount and balance within a signed 64-bit integer.
MAX_AMOUNT_FEN = 2**63 - 1

REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"


class PayerKind(StrEnum):
    CITIZEN = "citizen"  # identified by the national ID (GB 11643)
    ENTERPRISE = "enterprise"  # identified by the unified social credit code (GB 32100)


class BillStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"  # a bank payment is under way
    PAID = "paid"


class OrderPurpose(StrEnum):
    BILL = "bill"
    TOP_UP = "top_up"


class PaymentMethod(StrEnum):
    WALLET = "wallet"
    BANK = "bank"


class OrderStatus(StrEnum):
    PENDING = "pending"  # waiting for the bank
    CONFIRMED = "confirmed"  # the money is in (posted in the ledger)
    SETTLED = "settled"  # passed on to the biller at the daily settlement
    FAILED = "failed"  # the bank refused it
    EXPIRED = "expired"  # the bank never answered in time


@dataclass(frozen=True, slots=True)
class Payer:
    """Who owes or pays: a citizen or an enterprise, by their real-name identifier."""

    kind: PayerKind
    identifier: str
    # The platform account of the caller, when the payer is the one asking.
    account_id: int | None = None


class BillerView(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(examples=["electricity"])
    department_code: str = Field(examples=["GZ-GDJ"])
    name: str = Field(examples=["广州供电局电费"])
    name_en: str = Field(examples=["Electricity (Guangzhou Power Supply Bureau)"])
    active: bool


class BillRequest(BaseModel):
    """A bill a biller issues."""

    model_config = ConfigDict(extra="forbid")

    bill_number: str = Field(
        min_length=1,
        max_length=64,
        pattern=REQUEST_ID_PATTERN,
        description="the biller's own number; issuing it again is a harmless retry",
        examples=["E-2026-10-000123"],
    )
    payer_kind: PayerKind
    payer_identifier: str = Field(
        min_length=18,
        max_length=18,
        description="national ID of a citizen or unified social credit code of an enterprise",
        examples=["440106199001011234"],
    )
    amount_fen: int = Field(gt=0, le=MAX_AMOUNT_FEN, description="amount in fen", examples=[12345])
    period: str = Field(
        min_length=1, max_length=16, description="billing period", examples=["2026-10"]
    )
    due_date: dt.date = Field(examples=["2026-12-15"])
    reference: str = Field(
        default="", max_length=64, description="meter, line or case number", examples=["M-889"]
    )


class BillView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    biller_code: str
    bill_number: str
    payer_kind: PayerKind
    payer_identifier: str
    amount_fen: int
    period: str
    due_date: dt.date
    reference: str
    status: BillStatus
    issued_at: dt.datetime
    paid_at: dt.datetime | None = None
    order_id: int | None = None


class PayRequest(BaseModel):
    """Pay one bill. Sending the same ``request_id`` again returns the same order."""

    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(
        pattern=REQUEST_ID_PATTERN,
        description="chosen by the client (a UUID, say); makes retries idempotent",
        examples=["3f0c9a2e-7d5b-4a51-9c1e-2b8f0a6d4e11"],
    )
    method: PaymentMethod = PaymentMethod.WALLET


class TopUpRequest(BaseModel):
    """Money into the payer's wallet, through the bank."""

    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(pattern=REQUEST_ID_PATTERN, examples=["top-up-0001"])
    amount_fen: int = Field(gt=0, le=MAX_AMOUNT_FEN, examples=[50000])


class OrderView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    request_id: str
    purpose: OrderPurpose
    bill_id: int | None
    biller_code: str | None
    method: PaymentMethod
    amount_fen: int
    status: OrderStatus
    created_at: dt.datetime
    expires_at: dt.datetime | None = None
    confirmed_at: dt.datetime | None = None
    settled_at: dt.datetime | None = None
    bank_reference: str | None = None
    failure_reason: str | None = None
    # Where the payer approves a bank payment (the bank's page), while it is pending.
    bank_pay_url: str | None = None


class WalletView(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: int
    balance_fen: int = Field(description="posted credits minus posted debits")
    available_fen: int = Field(description="what may still be spent (pending debits excluded)")
    incoming_fen: int = Field(description="top-ups the bank has not confirmed yet")


class PreferenceView(BaseModel):
    model_config = ConfigDict(frozen=True)

    payer_kind: PayerKind
    payer_identifier: str
    paperless: bool


class PreferenceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paperless: bool


class ReceiptView(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: str
    order_id: int
    bill_id: int
    issued_at: dt.datetime
    document: dict[str, object] = Field(description="the signed document, as JSON")
    signed: bool
    signature_url: str | None = None
