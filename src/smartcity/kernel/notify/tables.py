"""Tables of notifications.

``notify_message`` is the inbox (one row per message per account). ``notify_preference``
holds an account's locale, channels per category, quiet hours and contact details (a
missing row means the defaults). ``notify_outbox`` holds every SMS and e-mail to deliver;
it is written in the same transaction as its inbox message, so a crash never loses one
or sends one for a message that does not exist. Account ids are plain integers: accounts
live in ``kernel/identity`` and this module does not depend on their tables.
"""

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from smartcity.kernel.storage.schema import metadata
from smartcity.kernel.storage.types import UtcDateTime

# BIGSERIAL on PostgreSQL (tens of millions of messages); SQLite's INTEGER rowid.
_ID = BigInteger().with_variant(Integer, "sqlite")

notify_message = Table(
    "notify_message",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, nullable=False),
    Column("category", String(16), nullable=False),
    Column("template", String(64), nullable=False),
    Column("locale", String(8), nullable=False),
    Column("title", String(400), nullable=False),
    Column("body", Text, nullable=False),
    Column("link", String(2000), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("read_at", UtcDateTime, nullable=True),
    # The inbox page: newest first within one account.
    Index("ix_notify_message_account", "account_id", "id"),
    # Unread counts per category.
    Index("ix_notify_message_unread", "account_id", "read_at", "category"),
)

notify_preference = Table(
    "notify_preference",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("locale", String(8), nullable=False),
    # JSON object: category -> list of channels ("sms", "email").
    Column("channels", Text, nullable=False),
    # Quiet hours as minutes after local midnight; both NULL when there are none.
    Column("quiet_start", Integer, nullable=True),
    Column("quiet_end", Integer, nullable=True),
    Column("timezone", String(64), nullable=False),
    Column("phone", String(32), nullable=True),
    Column("email", String(254), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)

notify_outbox = Table(
    "notify_outbox",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    # Stable per delivery: retries and receivers deduplicate on it (at least once).
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("message_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(400), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    # Not sent before this instant: quiet hours, backoff, or a claim's lease.
    Column("not_before", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_notify_outbox_due", "status", "not_before"),
    Index("ix_notify_outbox_account", "account_id", "id"),
)
