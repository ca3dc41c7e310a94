"""Fewer, better-fitting indexes on the temporal history (context_instance).

Three long-key indexes became two: one per attribute instance in time (covering the
aggregated columns) and one listing the entities of a type. See
``smartcity.kernel.context.tables``.

Revision ID: 0014_context_instance_indexes
Revises: 0009_jsonld_contexts
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_context_instance_indexes"
down_revision: str | Sequence[str] | None = "0009_jsonld_contexts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "context_instance"


def upgrade() -> None:
    op.drop_index("ix_context_instance_entity", table_name=TABLE)
    op.drop_index("ix_context_instance_type", table_name=TABLE)
    op.drop_index("ix_context_instance_recorded", table_name=TABLE)
    op.create_index(
        "ix_context_instance_series",
        TABLE,
        [
            "tenant",
            "entity_id",
            "name",
            "dataset_id",
            "observed_at",
            "deleted",
            "kind",
            "value_number",
        ],
    )
    op.create_index("ix_context_instance_type", TABLE, ["tenant", "entity_type", "entity_id"])


def downgrade() -> None:
    op.drop_index("ix_context_instance_type", table_name=TABLE)
    op.drop_index("ix_context_instance_series", table_name=TABLE)
    op.create_index(
        "ix_context_instance_recorded", TABLE, ["tenant", "entity_id", "name", "recorded_at"]
    )
    op.create_index(
        "ix_context_instance_type", TABLE, ["tenant", "entity_type", "name", "observed_at"]
    )
    op.create_index(
        "ix_context_instance_entity", TABLE, ["tenant", "entity_id", "name", "observed_at"]
    )
