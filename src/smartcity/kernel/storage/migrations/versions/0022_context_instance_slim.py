"""History rows name their series by id only (decision 0016).

``context_instance`` drops the five key columns it repeated from its series (tenant,
entity_id, entity_type, name, dataset_id: ~140 bytes a row) and ``instance_id`` (a
stored uuid): a row's instanceId is derived from its ``seq`` from now on, so the
instanceIds of existing rows change (they are system-generated; nothing stores them).

Every existing row is rewritten, inside the migration's transaction (killed half-way,
nothing changed): SQLite rebuilds the table (one INSERT ... SELECT into the new shape),
PostgreSQL drops the columns and rewrites the table so the old rows lose their bytes
too (a dropped column otherwise stays in every row until it is next written).

Revision ID: 0022_context_instance_slim
Revises: 0021_context_series
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_context_instance_slim"
down_revision: str | Sequence[str] | None = "0021_context_series"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HISTORY = "context_instance"
SERIES = "context_series"
KEY = ("tenant", "entity_id", "entity_type", "name", "dataset_id")
INSTANCE_PREFIX = "urn:ngsi-ld:attribute:instance:"
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in (*KEY, "instance_id"):
            op.drop_column(HISTORY, column)
        # A no-op change of type with an expression: PostgreSQL rewrites the table and
        # its indexes (VACUUM FULL cannot run in a transaction).
        op.execute(f"ALTER TABLE {HISTORY} ALTER COLUMN series_id TYPE bigint USING series_id + 0")
        return
    with op.batch_alter_table(HISTORY, recreate="always") as batch:
        for column in (*KEY, "instance_id"):
            batch.drop_column(column)


def _key_columns() -> list[sa.Column[str]]:
    return [
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("entity_id", sa.String(length=256), nullable=True),
        sa.Column("entity_type", sa.String(length=512), nullable=True),
        sa.Column("name", sa.String(length=512), nullable=True),
        sa.Column("dataset_id", sa.String(length=256), nullable=True),
        sa.Column("instance_id", sa.String(length=80), nullable=True),
    ]


def downgrade() -> None:
    with op.batch_alter_table(HISTORY) as batch:
        for column in _key_columns():
            batch.add_column(column)
    assignments = ", ".join(
        f"{column} = (SELECT s.{column} FROM {SERIES} s WHERE s.id = {HISTORY}.series_id)"
        for column in KEY
    )
    op.execute(
        f"UPDATE {HISTORY} SET {assignments},"
        f" instance_id = '{INSTANCE_PREFIX}' || CAST(seq AS VARCHAR(20))"
    )
    with op.batch_alter_table(HISTORY) as batch:
        for column in _key_columns():
            batch.alter_column(column.name, existing_type=column.type, nullable=False)
