"""Tables of the audit log.

``audit_entry`` is the hash chain itself. ``audit_head`` is one row holding the last seq
and hash, updated in the same transaction as every append: it is what lets
:func:`~smartcity.kernel.audit.verify` notice that rows were cut off the end of the
chain, which the chain alone cannot show.
"""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Integer,
    String,
    Table,
    Text,
)

from smartcity.kernel.storage.schema import metadata
from smartcity.kernel.storage.types import UtcDateTime

HASH_LENGTH = 64  # hex SHA-256
ACTOR_LENGTH = 200
ACTION_LENGTH = 100
SUBJECT_LENGTH = 300

audit_entry = Table(
    "audit_entry",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(ACTOR_LENGTH), nullable=False),
    Column("action", String(ACTION_LENGTH), nullable=False),
    # Indexed: "who did what to this case/account/citizen" is the everyday question.
    Column("subject", String(SUBJECT_LENGTH), nullable=False, index=True),
    # Canonical JSON (orjson, sorted keys): the exact text the hash covers.
    Column("details", Text, nullable=False),
    Column("prev_hash", String(HASH_LENGTH), nullable=False),
    Column("hash", String(HASH_LENGTH), nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    # Always 1: a single row that appenders lock to take their turn.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(HASH_LENGTH), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)
