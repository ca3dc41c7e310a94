"""Citizen card (smartcity.apps.card.tables).

Revision ID: 0018_card
Revises: 0010_ledger
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_card"
down_revision: str | Sequence[str] | None = "0010_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "card_card",
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("national_id", sa.String(length=18), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("current_of", sa.String(length=18), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaces", sa.String(length=16), nullable=True),
        sa.Column("replaced_by", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_card_card")),
        sa.UniqueConstraint("current_of", name=op.f("uq_card_card_current_of")),
    )
    op.create_index(op.f("ix_card_card_national_id"), "card_card", ["national_id"], unique=False)
    op.create_table(
        "card_deny",
        sa.Column("version", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("card_number", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_card_deny")),
    )
    op.create_table(
        "card_movement",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("national_id", sa.String(length=18), nullable=False),
        sa.Column("card_number", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("purse", sa.String(length=12), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_movement")),
        sa.UniqueConstraint("transfer_id", "card_number", name="uq_card_movement_transfer_card"),
    )
    op.create_index("ix_card_movement_holder", "card_movement", ["national_id", "id"], unique=False)
    op.create_table(
        "card_tap",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("terminal_id", sa.String(length=64), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("card_number", sa.String(length=16), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=True),
        sa.Column("fare_fen", sa.BigInteger(), nullable=False),
        sa.Column("charged_fen", sa.BigInteger(), nullable=False),
        sa.Column("city_day", sa.String(length=10), nullable=False),
        sa.Column("tapped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_tap")),
        sa.UniqueConstraint(
            "terminal_id", "transaction_id", name="uq_card_tap_terminal_transaction"
        ),
    )
    op.create_index("ix_card_tap_card_day", "card_tap", ["card_number", "city_day"], unique=False)
    op.create_index("ix_card_tap_outcome", "card_tap", ["outcome", "id"], unique=False)
    op.create_table(
        "card_function",
        sa.Column("card_number", sa.String(length=16), nullable=False),
        sa.Column("function", sa.String(length=24), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_number"],
            ["card_card.number"],
            name=op.f("fk_card_function_card_number_card_card"),
        ),
        sa.PrimaryKeyConstraint("card_number", "function", name=op.f("pk_card_function")),
    )
    op.create_table(
        "card_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("card_number", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_number"], ["card_card.number"], name=op.f("fk_card_token_card_number_card_card")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_token")),
        sa.UniqueConstraint("digest", name=op.f("uq_card_token_digest")),
    )
    op.create_index(op.f("ix_card_token_card_number"), "card_token", ["card_number"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_card_token_card_number"), table_name="card_token")
    op.drop_table("card_token")
    op.drop_table("card_function")
    op.drop_index("ix_card_tap_outcome", table_name="card_tap")
    op.drop_index("ix_card_tap_card_day", table_name="card_tap")
    op.drop_table("card_tap")
    op.drop_index("ix_card_movement_holder", table_name="card_movement")
    op.drop_table("card_movement")
    op.drop_table("card_deny")
    op.drop_index(op.f("ix_card_card_national_id"), table_name="card_card")
    op.drop_table("card_card")
