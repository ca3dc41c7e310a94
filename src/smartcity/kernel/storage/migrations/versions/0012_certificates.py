"""Certificate authority: CA keys, issued certificates, holders.

Revision ID: 0012_certificates
Revises: 0003_identity
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_certificates"
down_revision: str | Sequence[str] | None = "0003_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificate_authority",
        sa.Column("name", sa.String(16), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("encrypted_key_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_certificate_authority")),
    )
    op.create_table(
        "certificate",
        sa.Column("serial", sa.String(40), nullable=False),
        sa.Column("holder_kind", sa.String(16), nullable=False),
        sa.Column("holder_id", sa.String(18), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_origin", sa.String(16), nullable=False),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(32), nullable=True),
        sa.CheckConstraint(
            "holder_kind IN ('citizen', 'enterprise')", name=op.f("ck_certificate_holder_kind")
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_certificate")),
    )
    op.create_table(
        "certificate_holder",
        sa.Column("holder_kind", sa.String(16), nullable=False),
        sa.Column("holder_id", sa.String(18), nullable=False),
        sa.Column("active_serial", sa.String(40), nullable=True),
        sa.Column("issued_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("holder_kind", "holder_id", name=op.f("pk_certificate_holder")),
    )


def downgrade() -> None:
    op.drop_table("certificate_holder")
    op.drop_table("certificate")
    op.drop_table("certificate_authority")
