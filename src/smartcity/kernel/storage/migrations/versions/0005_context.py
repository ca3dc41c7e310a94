"""City information library: entities, types, attributes, temporal instances.

Revision ID: 0005_context
Revises: 0001_storage
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from smartcity.kernel.storage.types import GeometryType

revision: str = "0005_context"
down_revision: str | Sequence[str] | None = "0001_storage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "context_entity",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=256), nullable=False),
        sa.Column("type", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", GeometryType, nullable=True),
        sa.Column("location_west", sa.Float(), nullable=True),
        sa.Column("location_south", sa.Float(), nullable=True),
        sa.Column("location_east", sa.Float(), nullable=True),
        sa.Column("location_north", sa.Float(), nullable=True),
        sa.Column("location_cell", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "id", name=op.f("pk_context_entity")),
    )
    op.create_index(
        "ix_context_entity_tenant_location_cell",
        "context_entity",
        ["tenant", "location_cell"],
        unique=False,
    )
    op.create_index(
        "ix_context_entity_tenant_location_west",
        "context_entity",
        ["tenant", "location_west", "location_east", "location_south", "location_north"],
        unique=False,
    )
    op.create_index(
        "ix_context_entity_tenant_location_width",
        "context_entity",
        ["tenant", sa.text("(location_east - location_west)")],
        unique=False,
    )
    op.create_index(
        "ix_context_entity_tenant_type", "context_entity", ["tenant", "type"], unique=False
    )
    op.create_table(
        "context_instance",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=256), nullable=False),
        sa.Column("entity_type", sa.String(length=512), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("dataset_id", sa.String(length=256), nullable=False),
        sa.Column("instance_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value_number", sa.Float(), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
        sa.Column("value_json", sa.Text(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unit_code", sa.String(length=16), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_context_instance")),
    )
    op.create_index(
        "ix_context_instance_entity",
        "context_instance",
        ["tenant", "entity_id", "name", "observed_at"],
        unique=False,
    )
    op.create_index(
        "ix_context_instance_recorded",
        "context_instance",
        ["tenant", "entity_id", "name", "recorded_at"],
        unique=False,
    )
    op.create_index(
        "ix_context_instance_type",
        "context_instance",
        ["tenant", "entity_type", "name", "observed_at"],
        unique=False,
    )
    op.create_table(
        "context_attribute",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("dataset_id", sa.String(length=256), nullable=False),
        sa.Column("entity_type", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value_number", sa.Float(), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
        sa.Column("value_json", sa.Text(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unit_code", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant", "entity_id"],
            ["context_entity.tenant", "context_entity.id"],
            name="fk_context_attribute_entity",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant", "entity_id", "name", "dataset_id", name=op.f("pk_context_attribute")
        ),
    )
    op.create_index(
        "ix_context_attribute_name", "context_attribute", ["tenant", "name"], unique=False
    )
    op.create_index(
        "ix_context_attribute_number",
        "context_attribute",
        ["tenant", "entity_type", "name", "value_number", "entity_id"],
        unique=False,
    )
    op.create_index(
        "ix_context_attribute_text",
        "context_attribute",
        ["tenant", "entity_type", "name", "value_text", "entity_id"],
        unique=False,
    )
    op.create_table(
        "context_entity_type",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=256), nullable=False),
        sa.Column("type", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant", "entity_id"],
            ["context_entity.tenant", "context_entity.id"],
            name="fk_context_entity_type_entity",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant", "entity_id", "type", name=op.f("pk_context_entity_type")),
    )
    op.create_index(
        "ix_context_entity_type_tenant_type",
        "context_entity_type",
        ["tenant", "type"],
        unique=False,
    )


def downgrade() -> None:
    for table in ("context_instance", "context_attribute", "context_entity_type", "context_entity"):
        op.drop_table(table)
