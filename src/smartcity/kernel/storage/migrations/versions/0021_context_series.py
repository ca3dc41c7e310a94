"""An integer series key for the temporal history (decision 0014).

``context_series`` gives each attribute instance, under the type it was written as, an
integer id; ``context_instance`` rows carry it and the history's per-series index is
keyed by it (8 bytes) instead of (tenant, entity, attribute, datasetId) (~140 bytes).
The type index moves from the history to the series. Existing rows are moved: a series
for every key of the history and of the current attributes, and each history row gets
its series' id.

Revision ID: 0021_context_series
Revises: 0014_context_instance_indexes
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_context_series"
down_revision: str | Sequence[str] | None = "0014_context_instance_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HISTORY = "context_instance"
SERIES = "context_series"
KEY = ("tenant", "entity_id", "name", "dataset_id", "entity_type")


def _series_id() -> sa.Column[int]:
    return sa.Column(
        "series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
    )


def upgrade() -> None:
    op.create_table(
        SERIES,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("dataset_id", sa.String(length=256), nullable=False),
        sa.Column("entity_type", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_series")),
    )
    op.create_index("ux_context_series_key", SERIES, list(KEY), unique=True)
    op.create_index("ix_context_series_type", SERIES, ["tenant", "entity_type", "entity_id"])
    columns = ", ".join(KEY)
    op.execute(
        f"INSERT INTO {SERIES} ({columns})"
        f" SELECT {columns} FROM {HISTORY} UNION SELECT {columns} FROM context_attribute"
    )
    op.drop_index("ix_context_instance_type", table_name=HISTORY)
    op.drop_index("ix_context_instance_series", table_name=HISTORY)
    with op.batch_alter_table(HISTORY) as batch:
        batch.add_column(_series_id())
    matches = " AND ".join(f"s.{column} = {HISTORY}.{column}" for column in KEY)
    op.execute(f"UPDATE {HISTORY} SET series_id = (SELECT s.id FROM {SERIES} s WHERE {matches})")
    with op.batch_alter_table(HISTORY) as batch:
        batch.alter_column(
            "series_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        )
    op.create_index(
        "ix_context_instance_series",
        HISTORY,
        ["series_id", "observed_at", "deleted", "kind", "value_number"],
    )


def downgrade() -> None:
    op.drop_index("ix_context_instance_series", table_name=HISTORY)
    with op.batch_alter_table(HISTORY) as batch:
        batch.drop_column("series_id")
    op.create_index(
        "ix_context_instance_series",
        HISTORY,
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
    op.create_index("ix_context_instance_type", HISTORY, ["tenant", "entity_type", "entity_id"])
    op.drop_index("ix_context_series_type", table_name=SERIES)
    op.drop_index("ux_context_series_key", table_name=SERIES)
    op.drop_table(SERIES)
