"""IoT agent: the device registry (smartcity.gateways.iot.tables).

Revision ID: 0007_iot
Revises: 0005_context
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_iot"
down_revision: str | Sequence[str] | None = "0005_context"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "iot_device",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=256), nullable=False),
        sa.Column("api_key_digest", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=256), nullable=False),
        sa.Column("entity_type", sa.String(length=512), nullable=False),
        sa.Column("attributes_json", sa.Text(), nullable=False),
        sa.Column("static_attributes_json", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "device_id", name=op.f("pk_iot_device")),
    )
    op.create_index("ix_iot_device_key", "iot_device", ["api_key_digest", "device_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_iot_device_key", table_name="iot_device")
    op.drop_table("iot_device")
