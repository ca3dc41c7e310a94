"""Tables of the targeting app: notices, their deliveries, and the area events rules read.

``targeting_delivery`` has one row per matched person of a published notice (account id
NULL when the person has no account yet), so reach is counted from it and the read state
comes from the linked inbox message. ``targeting_notice`` doubles as the publication's job
record: ``cursor`` is the last person id delivered, so a publication cut by a restart
resumes from the next batch.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from smartcity.kernel.storage.schema import metadata
from smartcity.kernel.storage.types import UtcDateTime

targeting_notice = Table(
    "targeting_notice",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("department_code", String(16), nullable=False, index=True),
    Column("title_zh", String(200), nullable=False),
    Column("title_en", String(200), nullable=False),
    Column("body_zh", Text, nullable=False),
    Column("body_en", Text, nullable=False),
    Column("category", String(16), nullable=False),
    # The audience rule as canonical JSON (validated on the way in).
    Column("audience", Text, nullable=False),
    Column("publish_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    # draft | publishing | published
    Column("status", String(12), nullable=False),
    # Last person id delivered by the publication job (0 before the first batch).
    Column("cursor", Integer, nullable=False),
    Column("matched", Integer, nullable=False),
    Column("delivered", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", Integer, nullable=False),
    Column("published_at", UtcDateTime, nullable=True),
)

targeting_delivery = Table(
    "targeting_delivery",
    metadata,
    Column("notice_id", Integer, primary_key=True, autoincrement=False),
    Column("person_id", Integer, primary_key=True, autoincrement=False),
    Column("account_id", BigInteger, nullable=True),
    Column("message_id", BigInteger, nullable=True),
    # "My notices" of one person.
    Index("ix_targeting_delivery_person", "person_id"),
)

targeting_event = Table(
    "targeting_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # water_outage | power_outage | gas_outage | road_works
    Column("kind", String(24), nullable=False),
    # A district (6), street (9) or community (12) code: the area and everything in it.
    Column("area_code", String(12), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("description", String(200), nullable=False),
    Column("department_code", String(16), nullable=False),
    Index("ix_targeting_event_kind", "kind", "starts_on"),
)
