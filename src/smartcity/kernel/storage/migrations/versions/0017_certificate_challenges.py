"""Certificate sign-in challenges.

Revision ID: 0017_certificate_challenges
Revises: 0012_certificates
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_certificate_challenges"
down_revision: str | Sequence[str] | None = "0012_certificates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificate_challenge",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("challenge_hash", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_challenge")),
    )
    op.create_index(
        "ix_certificate_challenge_expires_at",
        "certificate_challenge",
        ["expires_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_certificate_challenge_expires_at", table_name="certificate_challenge")
    op.drop_table("certificate_challenge")
