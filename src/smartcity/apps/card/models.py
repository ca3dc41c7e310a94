"""Domain types and the JSON shapes of the citizen card API (docs/apps/card.md)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from smartcity.apps.card.fares import TapKind

REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
MAX_AMOUNT_FEN = 10_000_000
MAX_BATCH = 100_000


class CardStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"  # reported lost: taps declined, balance kept for the reissue
    RETIRED = "retired"  # replaced by a reissued card; its number is never used again


class CardFunction(StrEnum):
    """What one card does (一卡通): each a row with its own status."""

    SOCIAL_SECURITY = "social_security"
    MEDICAL_INSURANCE = "medical_insurance"
    TRANSIT = "transit"
    E_WALLET = "e_wallet"
    ROAD_TOLLS = "road_tolls"
    LIBRARY = "library"
    PARKS_TOURISM = "parks_tourism"
    IDENTITY_CHECK = "identity_check"


class Purse(StrEnum):
    """Stored-value purses of a card, each a ledger account."""

    TRANSIT = "transit"
    E_WALLET = "e_wallet"


class MovementKind(StrEnum):
    TOP_UP = "top_up"
    TAP = "tap"
    REISSUE_OUT = "reissue_out"
    REISSUE_IN = "reissue_in"


class TapOutcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    CONFLICT = "conflict"  # an offline tap the platform could not honour: for settlement


class DeclineReason(StrEnum):
    UNKNOWN_CARD = "unknown_card"
    UNKNOWN_TOKEN = "unknown_token"  # noqa: S105 - a reason code, not a secret
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 - a reason code, not a secret
    CARD_FROZEN = "card_frozen"
    CARD_RETIRED = "card_retired"
    FUNCTION_DISABLED = "function_disabled"
    INSUFFICIENT_BALANCE = "insufficient_balance"


class IssueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    national_id: str = Field(min_length=18, max_length=18, examples=["440106199001011234"])


class FunctionView(BaseModel):
    model_config = ConfigDict(frozen=True)

    function: CardFunction
    enabled: bool
    updated_at: dt.datetime


class FunctionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


class PurseView(BaseModel):
    model_config = ConfigDict(frozen=True)

    purse: Purse
    account_id: int
    balance_fen: int


class CardView(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: str = Field(examples=["8844012345678903"])
    national_id: str
    status: CardStatus
    issued_at: dt.datetime
    frozen_at: dt.datetime | None = None
    retired_at: dt.datetime | None = None
    replaces: str | None = None
    replaced_by: str | None = None
    functions: list[FunctionView] = Field(default_factory=list)
    purses: list[PurseView] = Field(default_factory=list)
    spent_today_fen: int = Field(0, description="transit fares today (toward the daily cap)")
    daily_cap_fen: int = 0


class TopUpRequest(BaseModel):
    """Money from the citizen's platform wallet into a purse of the card."""

    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(pattern=REQUEST_ID_PATTERN, examples=["card-top-up-0001"])
    amount_fen: int = Field(gt=0, le=MAX_AMOUNT_FEN, examples=[5000])
    purse: Purse = Purse.TRANSIT


class MovementView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    card_number: str
    kind: MovementKind
    purse: Purse
    amount_fen: int = Field(description="into the purse (+) or out of it (-)")
    transfer_id: int
    reference: str = Field(description="request id, terminal transaction or the other card")
    at: dt.datetime


class LossRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("lost", max_length=64, examples=["lost"])


class TokenView(BaseModel):
    """A phone NFC token bound to the card. ``token`` is shown once, when issued."""

    model_config = ConfigDict(frozen=True)

    id: int
    card_number: str
    issued_at: dt.datetime
    revoked_at: dt.datetime | None = None
    token: str | None = None


class TapRequest(BaseModel):
    """One tap at a gate, a bus reader or a shop till.

    Name the card by ``card_number`` or a phone's ``token``. Metro taps give the entry
    and exit stations (or ``distance_m``); shop taps give ``amount_fen``.
    """

    model_config = ConfigDict(extra="forbid")

    transaction_id: str = Field(
        pattern=REQUEST_ID_PATTERN,
        description="the terminal's own number for the tap: sending it again is a retry",
        examples=["T-000001"],
    )
    kind: TapKind
    card_number: str | None = Field(None, min_length=16, max_length=16)
    token: str | None = Field(None, min_length=16, max_length=128)
    entry_station: str | None = Field(None, max_length=32)
    exit_station: str | None = Field(None, max_length=32)
    distance_m: int | None = Field(None, ge=0, le=500_000)
    amount_fen: int | None = Field(None, gt=0, le=MAX_AMOUNT_FEN)
    tapped_at: dt.datetime | None = Field(
        None, description="when the tap happened (offline batches); default: now"
    )

    @model_validator(mode="after")
    def _complete(self) -> TapRequest:
        if (self.card_number is None) == (self.token is None):
            raise ValueError("name the card by exactly one of card_number and token")
        if self.kind is TapKind.SHOP and self.amount_fen is None:
            raise ValueError("a shop tap gives amount_fen")
        stations = self.entry_station is not None and self.exit_station is not None
        if self.kind is TapKind.METRO and self.distance_m is None and not stations:
            raise ValueError("a metro tap gives entry_station and exit_station or distance_m")
        if self.tapped_at is not None and self.tapped_at.tzinfo is None:
            raise ValueError("tapped_at carries a time zone")
        return self


class TapView(BaseModel):
    model_config = ConfigDict(frozen=True)

    terminal_id: str
    transaction_id: str
    card_number: str | None
    kind: TapKind
    outcome: TapOutcome
    reason: DeclineReason | None = None
    fare_fen: int = Field(description="the fare before the daily cap")
    charged_fen: int = Field(description="what the purse paid")
    balance_fen: int | None = Field(None, description="the transit purse after the tap")
    tapped_at: dt.datetime
    offline: bool = False


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    taps: list[TapRequest] = Field(max_length=MAX_BATCH)


class BatchView(BaseModel):
    model_config = ConfigDict(frozen=True)

    received: int
    approved: int
    declined: int
    conflicts: int
    duplicates: int = Field(description="taps this terminal had sent before: ignored")


class DenyEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    card_number: str
    reason: str
    at: dt.datetime


class DenyListView(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int = Field(description="pass it as ?since= next time")
    entries: list[DenyEntry]
