"""Tables of the citizen card app (all prefixed ``card_``).

Money lives in the kernel ledger (one account per purse of a card); these tables hold
the cards, their functions, the phone tokens, every tap a terminal sent (approved,
declined or in conflict: the terminal's transaction id makes a retry harmless), the
money movements a citizen sees, and the versioned deny list terminals download.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from smartcity.kernel.storage.schema import metadata

card_card = Table(
    "card_card",
    metadata,
    Column("number", String(16), primary_key=True),
    Column("national_id", String(18), nullable=False, index=True),
    # active | frozen | retired
    Column("status", String(8), nullable=False),
    # The holder's national ID while the card is the holder's current one, else NULL:
    # unique, so a person has one current card (NULLs never collide).
    Column("current_of", String(18), nullable=True, unique=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("frozen_at", DateTime(timezone=True), nullable=True),
    Column("retired_at", DateTime(timezone=True), nullable=True),
    Column("replaces", String(16), nullable=True),
    Column("replaced_by", String(16), nullable=True),
)

card_function = Table(
    "card_function",
    metadata,
    Column("card_number", String(16), ForeignKey("card_card.number"), primary_key=True),
    Column("function", String(24), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

card_token = Table(
    "card_token",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("card_number", String(16), ForeignKey("card_card.number"), nullable=False, index=True),
    # SHA-256 of the token: the phone holds the token, the platform only its digest.
    Column("digest", String(64), nullable=False, unique=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

card_tap = Table(
    "card_tap",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("terminal_id", String(64), nullable=False),
    Column("transaction_id", String(64), nullable=False),
    # NULL when the tap named a token the platform does not know.
    Column("card_number", String(16), nullable=True),
    Column("kind", String(8), nullable=False),
    # approved | declined | conflict
    Column("outcome", String(8), nullable=False),
    Column("reason", String(24), nullable=True),
    Column("fare_fen", BigInteger, nullable=False),
    Column("charged_fen", BigInteger, nullable=False),
    # Transit fares count toward the daily cap of this city day (YYYY-MM-DD).
    Column("city_day", String(10), nullable=False),
    Column("tapped_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("offline", Boolean, nullable=False),
    UniqueConstraint("terminal_id", "transaction_id", name="uq_card_tap_terminal_transaction"),
    # The daily cap asks "what did this card pay for transit today".
    Index("ix_card_tap_card_day", "card_number", "city_day"),
    Index("ix_card_tap_outcome", "outcome", "id"),
)

card_movement = Table(
    "card_movement",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("national_id", String(18), nullable=False),
    Column("card_number", String(16), nullable=False),
    # top_up | tap | reissue_out | reissue_in
    Column("kind", String(12), nullable=False),
    Column("purse", String(12), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    # The ledger transfer that moved the money (one movement per transfer and side).
    Column("transfer_id", BigInteger, nullable=False),
    Column("reference", String(80), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("transfer_id", "card_number", name="uq_card_movement_transfer_card"),
    Index("ix_card_movement_holder", "national_id", "id"),
)

card_deny = Table(
    "card_deny",
    metadata,
    # The deny list's version: terminals ask for the entries after the one they hold.
    Column("version", Integer, primary_key=True, autoincrement=True),
    Column("card_number", String(16), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
