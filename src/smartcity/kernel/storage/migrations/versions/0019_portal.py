"""Citizen page: profiles, personal documents, journeys, policy drafts, comments, suggestions.

Revision ID: 0019_portal
Revises: 0001_storage
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_portal"
down_revision: str | Sequence[str] | None = "0001_storage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "portal_profile",
        sa.Column("person_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("occupation", sa.String(length=32), nullable=True),
        sa.Column("interests", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_portal_profile")),
    )
    op.create_table(
        "portal_document",
        _id(),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        _time("uploaded_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_document")),
    )
    op.create_index(
        "ix_portal_document_person", "portal_document", ["person_id", "id"], unique=False
    )
    op.create_index("ix_portal_document_sha256", "portal_document", ["sha256"], unique=False)
    op.create_table(
        "portal_journey",
        _id(),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        _time("started_at"),
        sa.Column("done_steps", sa.Text(), nullable=False),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_journey")),
        sa.UniqueConstraint("person_id", "slug", name="uq_portal_journey_person_slug"),
    )
    op.create_table(
        "portal_draft",
        _id(),
        sa.Column("department_code", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _time("opens_at"),
        _time("closes_at"),
        sa.Column("published_by", sa.BigInteger(), nullable=False),
        _time("published_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_draft")),
    )
    op.create_index("ix_portal_draft_closes", "portal_draft", ["closes_at"], unique=False)
    op.create_table(
        "portal_comment",
        _id(),
        sa.Column("draft_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _time("created_at"),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_by", sa.BigInteger(), nullable=True),
        _time("replied_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_comment")),
    )
    op.create_index("ix_portal_comment_draft", "portal_comment", ["draft_id", "id"], unique=False)
    op.create_index(
        "ix_portal_comment_account", "portal_comment", ["account_id", "created_at"], unique=False
    )
    op.create_table(
        "portal_suggestion",
        _id(),
        sa.Column("department_code", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _time("created_at"),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_by", sa.BigInteger(), nullable=True),
        _time("replied_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_suggestion")),
    )
    op.create_index(
        "ix_portal_suggestion_department",
        "portal_suggestion",
        ["department_code", "id"],
        unique=False,
    )
    op.create_index(
        "ix_portal_suggestion_account", "portal_suggestion", ["account_id", "id"], unique=False
    )


def downgrade() -> None:
    for table in (
        "portal_suggestion",
        "portal_comment",
        "portal_draft",
        "portal_journey",
        "portal_document",
        "portal_profile",
    ):
        op.drop_table(table)
