"""``context_attribute.series_id``: the series of an attribute row, kept by SQLite's
batches (decision 0014, addendum of session 10).

A batch upsert on SQLite reads each attribute row's series id with the row (its
history rows name it): a probe of ``ux_context_series_key`` per row, ~30% of the read's
statement. The batch now stores the id it found on the row, and the next batch reads
it from there. NULL means "not known yet" (the read then probes, as before): existing
rows start so, no table rewrite, and every upsert of a row sets it NULL again (the
upsert may change the row's entity type, which is part of the series key). A nullable
column without a default is added without rewriting the table on both backends;
PostgreSQL does not use it.

Revision ID: 0027_attribute_series_id
Revises: 0026_entity_partial_indexes
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_attribute_series_id"
down_revision: str | Sequence[str] | None = "0026_entity_partial_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "context_attribute",
        sa.Column("series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
    )


def downgrade() -> None:
    # Both backends drop a plain column in place (SQLite since 3.35).
    op.execute("ALTER TABLE context_attribute DROP COLUMN series_id")
