"""Unified payment and e-bills (smartcity.apps.payment.tables).

Revision ID: 0013_payment
Revises: 0001_storage
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_payment"
down_revision: str | Sequence[str] | None = "0001_storage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_biller",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("department_code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_payment_biller")),
    )
    op.create_table(
        "payment_payer",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("identifier", sa.String(length=18), nullable=False),
        sa.Column("paperless", sa.Boolean(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "identifier", name=op.f("pk_payment_payer")),
    )
    op.create_table(
        "payment_bill",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("biller_code", sa.String(length=32), nullable=False),
        sa.Column("bill_number", sa.String(length=64), nullable=False),
        sa.Column("payer_kind", sa.String(length=16), nullable=False),
        sa.Column("payer_identifier", sa.String(length=18), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payment_bill_amount_positive")),
        sa.ForeignKeyConstraint(
            ["biller_code"],
            ["payment_biller.code"],
            name=op.f("fk_payment_bill_biller_code_payment_biller"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_bill")),
        sa.UniqueConstraint("biller_code", "bill_number", name="uq_payment_bill_biller_number"),
    )
    op.create_index(
        "ix_payment_bill_payer",
        "payment_bill",
        ["payer_kind", "payer_identifier", "issued_at"],
        unique=False,
    )
    op.create_table(
        "payment_order",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("payer_kind", sa.String(length=16), nullable=False),
        sa.Column("payer_identifier", sa.String(length=18), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=True),
        sa.Column("biller_code", sa.String(length=32), nullable=True),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bank_reference", sa.String(length=64), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payment_order_amount_positive")),
        sa.ForeignKeyConstraint(
            ["bill_id"], ["payment_bill.id"], name=op.f("fk_payment_order_bill_id_payment_bill")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_order")),
        sa.UniqueConstraint(
            "request_id", "payer_kind", "payer_identifier", name="uq_payment_order_request"
        ),
    )
    op.create_index(
        "ix_payment_order_business_date",
        "payment_order",
        ["business_date", "biller_code"],
        unique=False,
    )
    op.create_index(
        "ix_payment_order_status_expires_at",
        "payment_order",
        ["status", "expires_at"],
        unique=False,
    )
    op.create_table(
        "payment_receipt",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bill_id"], ["payment_bill.id"], name=op.f("fk_payment_receipt_bill_id_payment_bill")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["payment_order.id"],
            name=op.f("fk_payment_receipt_order_id_payment_order"),
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_payment_receipt")),
        sa.UniqueConstraint("bill_id", name=op.f("uq_payment_receipt_bill_id")),
        sa.UniqueConstraint("number", name=op.f("uq_payment_receipt_number")),
    )
    op.create_table(
        "payment_settlement",
        sa.Column("biller_code", sa.String(length=32), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["biller_code"],
            ["payment_biller.code"],
            name=op.f("fk_payment_settlement_biller_code_payment_biller"),
        ),
        sa.PrimaryKeyConstraint("biller_code", "business_date", name=op.f("pk_payment_settlement")),
    )
    op.create_table(
        "payment_signer",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("key_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_signer")),
    )


def downgrade() -> None:
    op.drop_table("payment_signer")
    op.drop_table("payment_settlement")
    op.drop_table("payment_receipt")
    op.drop_index("ix_payment_order_status_expires_at", table_name="payment_order")
    op.drop_index("ix_payment_order_business_date", table_name="payment_order")
    op.drop_table("payment_order")
    op.drop_index("ix_payment_bill_payer", table_name="payment_bill")
    op.drop_table("payment_bill")
    op.drop_table("payment_payer")
    op.drop_table("payment_biller")
