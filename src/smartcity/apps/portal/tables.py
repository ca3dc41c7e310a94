"""Tables of the citizen page (all prefixed ``portal_``).

Registry facts (name, birth date, household, community) stay in ``kernel/identity``;
these tables hold only what the citizen adds or does on the page. People are named by
``identity_citizen.id`` (``person_id``), accounts are not needed to hold a profile, so
the population can be seeded with interests before anyone signs in.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from smartcity.kernel.storage.schema import metadata
from smartcity.kernel.storage.types import UtcDateTime

# BIGSERIAL on PostgreSQL; SQLite's INTEGER rowid.
_ID = BigInteger().with_variant(Integer, "sqlite")

portal_profile = Table(
    "portal_profile",
    metadata,
    Column("person_id", Integer, primary_key=True, autoincrement=False),
    # The citizen's correction of the registry occupation; NULL shows the registry's.
    Column("occupation", String(32), nullable=True),
    # Interest codes, comma-separated, sorted (read by apps/targeting as well).
    Column("interests", Text, nullable=False),
    # JSON object: preferred channels and whether the citizen wants targeted notices.
    Column("contact", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

portal_document = Table(
    "portal_document",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("person_id", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    # The content lives under the data directory, named by its SHA-256 (hex).
    Column("sha256", String(64), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    Index("ix_portal_document_person", "person_id", "id"),
    Index("ix_portal_document_sha256", "sha256"),
)

portal_journey = Table(
    "portal_journey",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("person_id", Integer, nullable=False),
    Column("slug", String(64), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    # Step slugs the citizen ticked, comma-separated.
    Column("done_steps", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("person_id", "slug", name="uq_portal_journey_person_slug"),
)

portal_draft = Table(
    "portal_draft",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("department_code", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("opens_at", UtcDateTime, nullable=False),
    Column("closes_at", UtcDateTime, nullable=False),
    Column("published_by", BigInteger, nullable=False),
    Column("published_at", UtcDateTime, nullable=False),
    Index("ix_portal_draft_closes", "closes_at"),
)

portal_comment = Table(
    "portal_comment",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("draft_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    # Shown publicly in place of the name (e.g. 陈**).
    Column("author", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("reply", Text, nullable=True),
    Column("replied_by", BigInteger, nullable=True),
    Column("replied_at", UtcDateTime, nullable=True),
    Index("ix_portal_comment_draft", "draft_id", "id"),
    Index("ix_portal_comment_account", "account_id", "created_at"),
)

portal_suggestion = Table(
    "portal_suggestion",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("department_code", String(16), nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("author", String(32), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("reply", Text, nullable=True),
    Column("replied_by", BigInteger, nullable=True),
    Column("replied_at", UtcDateTime, nullable=True),
    Index("ix_portal_suggestion_department", "department_code", "id"),
    Index("ix_portal_suggestion_account", "account_id", "id"),
)
