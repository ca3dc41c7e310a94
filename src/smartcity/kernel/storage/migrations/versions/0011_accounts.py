"""Accounts, enterprise agents and refresh tokens.

Revision ID: 0011_accounts
Revises: 0003_identity
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_accounts"
down_revision: str | Sequence[str] | None = "0003_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_account",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("department_code", sa.String(16), nullable=True),
        sa.Column("scopes", sa.String(400), nullable=True),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("totp_secret", sa.String(128), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('citizen', 'enterprise', 'staff', 'machine')",
            name="ck_identity_account_kind",
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["identity_citizen.id"],
            name="fk_identity_account_citizen_id_identity_citizen",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["identity_enterprise.id"],
            name="fk_identity_account_enterprise_id_identity_enterprise",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["identity_staff.id"],
            name="fk_identity_account_staff_id_identity_staff",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_identity_account"),
        sa.UniqueConstraint("username", name="uq_identity_account_username"),
    )
    op.create_table(
        "identity_enterprise_agent",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("agent_account_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["identity_enterprise.id"],
            name="fk_identity_enterprise_agent_enterprise_id_identity_enterprise",
        ),
        sa.ForeignKeyConstraint(
            ["agent_account_id"],
            ["identity_account.id"],
            name="fk_identity_enterprise_agent_agent_account_id_identity_account",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_identity_enterprise_agent"),
    )
    op.create_index(
        "ix_identity_enterprise_agent_enterprise_id",
        "identity_enterprise_agent",
        ["enterprise_id"],
    )
    op.create_table(
        "identity_refresh_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("family", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(24), nullable=False),
        sa.Column("acting_for", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity_account.id"],
            name="fk_identity_refresh_token_account_id_identity_account",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_identity_refresh_token"),
        sa.UniqueConstraint("token_hash", name="uq_identity_refresh_token_token_hash"),
    )
    op.create_index("ix_identity_refresh_token_family", "identity_refresh_token", ["family"])
    op.create_index(
        "ix_identity_refresh_token_account_id", "identity_refresh_token", ["account_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_identity_refresh_token_account_id", table_name="identity_refresh_token")
    op.drop_index("ix_identity_refresh_token_family", table_name="identity_refresh_token")
    op.drop_table("identity_refresh_token")
    op.drop_index(
        "ix_identity_enterprise_agent_enterprise_id", table_name="identity_enterprise_agent"
    )
    op.drop_table("identity_enterprise_agent")
    op.drop_table("identity_account")
