"""@context documents hosted by the broker (NGSI-LD /jsonldContexts).

Revision ID: 0009_jsonld_contexts
Revises: 0005_context
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_jsonld_contexts"
down_revision: str | Sequence[str] | None = "0005_context"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "context_jsonld",
        sa.Column("id", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_jsonld")),
    )


def downgrade() -> None:
    op.drop_table("context_jsonld")
