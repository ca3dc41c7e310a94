"""The ledger: accounts, immutable transfers, pending transfer states.

Revision ID: 0010_ledger
Revises: 0001_storage
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_ledger"
down_revision: str | Sequence[str] | None = "0001_storage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_account",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ledger", sa.Integer(), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("user_data", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_account")),
    )
    op.create_table(
        "ledger_transfer",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("debit_account_id", sa.BigInteger(), nullable=False),
        sa.Column("credit_account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("pending_id", sa.BigInteger(), nullable=True),
        sa.Column("ledger", sa.Integer(), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("timeout", sa.Integer(), nullable=False),
        sa.Column("user_data", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["debit_account_id"],
            ["ledger_account.id"],
            name=op.f("fk_ledger_transfer_debit_account_id_ledger_account"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_account_id"],
            ["ledger_account.id"],
            name=op.f("fk_ledger_transfer_credit_account_id_ledger_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transfer")),
        sa.UniqueConstraint("pending_id", name=op.f("uq_ledger_transfer_pending_id")),
    )
    op.create_index(
        op.f("ix_ledger_transfer_timestamp"), "ledger_transfer", ["timestamp"], unique=False
    )
    op.create_index(
        "ix_ledger_transfer_debit_account_id_timestamp",
        "ledger_transfer",
        ["debit_account_id", "timestamp"],
        unique=False,
    )
    op.create_index(
        "ix_ledger_transfer_credit_account_id_timestamp",
        "ledger_transfer",
        ["credit_account_id", "timestamp"],
        unique=False,
    )
    op.create_table(
        "ledger_pending",
        sa.Column("transfer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["ledger_transfer.id"],
            name=op.f("fk_ledger_pending_transfer_id_ledger_transfer"),
        ),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_ledger_pending")),
    )
    op.create_index(
        "ix_ledger_pending_status_expires_at",
        "ledger_pending",
        ["status", "expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("ledger_pending")
    op.drop_table("ledger_transfer")
    op.drop_table("ledger_account")
