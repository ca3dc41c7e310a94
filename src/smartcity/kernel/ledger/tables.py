"""Tables of the ledger.

``ledger_transfer`` rows are never updated or deleted: a correction is a reversing
transfer. ``ledger_account`` holds the running balances (updated in the same
transaction as the transfers that move them), and ``ledger_pending`` the state of each
pending transfer (pending, posted, voided, expired), which is the one thing about a
transfer that changes after it is written.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from smartcity.kernel.ledger.models import REFERENCE_LENGTH
from smartcity.kernel.storage.schema import metadata

STATUS_LENGTH = 8

ledger_account = Table(
    "ledger_account",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("ledger", Integer, nullable=False),
    Column("code", Integer, nullable=False),
    Column("flags", Integer, nullable=False),
    Column("user_data", BigInteger, nullable=False),
    Column("reference", String(REFERENCE_LENGTH), nullable=False),
    # Integer fen; the ledger keeps each within a signed 64-bit integer.
    Column("debits_pending", BigInteger, nullable=False),
    Column("debits_posted", BigInteger, nullable=False),
    Column("credits_pending", BigInteger, nullable=False),
    Column("credits_posted", BigInteger, nullable=False),
    # Nanoseconds since the Unix epoch.
    Column("timestamp", BigInteger, nullable=False),
)

ledger_transfer = Table(
    "ledger_transfer",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("debit_account_id", BigInteger, ForeignKey("ledger_account.id"), nullable=False),
    Column("credit_account_id", BigInteger, ForeignKey("ledger_account.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    # Set on posting and voiding transfers; unique, so a pending transfer is resolved
    # at most once even if two writers raced past the in-memory check.
    Column("pending_id", BigInteger, nullable=True, unique=True),
    Column("ledger", Integer, nullable=False),
    Column("code", Integer, nullable=False),
    Column("flags", Integer, nullable=False),
    Column("timeout", Integer, nullable=False),
    Column("user_data", BigInteger, nullable=False),
    Column("reference", String(REFERENCE_LENGTH), nullable=False),
    Column("timestamp", BigInteger, nullable=False, index=True),
    # An account's statement, in order: the everyday question of every purse.
    Index("ix_ledger_transfer_debit_account_id_timestamp", "debit_account_id", "timestamp"),
    Index("ix_ledger_transfer_credit_account_id_timestamp", "credit_account_id", "timestamp"),
)

ledger_pending = Table(
    "ledger_pending",
    metadata,
    Column(
        "transfer_id",
        BigInteger,
        ForeignKey("ledger_transfer.id"),
        primary_key=True,
        autoincrement=False,
    ),
    # pending | posted | voided | expired
    Column("status", String(STATUS_LENGTH), nullable=False),
    # Nanoseconds; NULL when the transfer has no timeout.
    Column("expires_at", BigInteger, nullable=True),
    Column("resolved_at", BigInteger, nullable=True),
    # The expiry job's question: which pending transfers have run out of time.
    Index("ix_ledger_pending_status_expires_at", "status", "expires_at"),
)
